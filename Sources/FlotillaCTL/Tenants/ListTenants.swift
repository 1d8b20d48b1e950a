import ArgumentParser
import FlotillaProto

/// `flotillactl tenants [list]`: each tenant's quota against what it holds and has queued,
/// from `ClusterStatusResponse.tenants`.
struct ListTenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tenants: default tier, GPUs held and queued jobs against their quotas, home region.",
        discussion: JSONOutput.help
            + " The document is a ClusterStatusResponse with only its tenants field (TenantUsage records).")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the tenants (a ClusterStatusResponse with only tenants) as JSON.")
    var json = false

    func run() async throws {
        let status = try await ClusterSession.with(connection) { session in
            try await session.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
        }
        if json {
            var tenants = Flotilla_V1_ClusterStatusResponse()
            tenants.tenants = status.tenants
            Console.line(try JSONOutput.line(tenants))
        } else {
            Console.line(TenantText.table(status.tenants))
        }
    }
}
