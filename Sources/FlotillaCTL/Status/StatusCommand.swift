import ArgumentParser
import FlotillaProto

/// `flotillactl status`: the serving region's coordinators, capacity, queues and scaling signals.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cluster's coordinators, workers, GPUs, jobs, queues and scaling signals (admin certificate).",
        discussion: JSONOutput.help + " The document is a ClusterStatusResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the ClusterStatusResponse as JSON.")
    var json = false

    func run() async throws {
        let status = try await ClusterSession.with(connection) { session in
            try await session.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
        }
        Console.line(json ? try JSONOutput.line(status) : ClusterStatusText(status).text)
    }
}
