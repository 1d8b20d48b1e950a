import ArgumentParser
import FlotillaProto

/// `flotillactl tenants set NAME`: creates a tenant or changes the quota fields given.
///
/// SetTenantRequest replaces the whole record, so unless every field is given the current
/// quota is read first (from ClusterStatusResponse.tenants) and only the given fields change.
struct SetTenant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Create a tenant or change its quota; fields not given keep their current values.",
        discussion: "A new tenant starts unlimited (0), with no default tier and no home region. "
            + JSONOutput.help + " The document is a SetTenantResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "Tenant name.")
    var name: String

    @Option(name: .customLong("max-gpus"), help: ArgumentHelp("GPUs the tenant may hold at once; 0: unlimited.", valueName: "n"))
    var maxGPUs: UInt32?

    @Option(
        name: .customLong("max-queued-jobs"),
        help: ArgumentHelp("Jobs the tenant may have waiting in the queue; 0: unlimited.", valueName: "n"))
    var maxQueuedJobs: UInt32?

    @Option(
        name: .customLong("default-tier"),
        help: ArgumentHelp("Tier of the tenant's jobs that name none: premium, standard or free.", valueName: "tier"))
    var defaultTier: String?

    @Option(
        name: .customLong("home-region"),
        help: ArgumentHelp("Region the router sends the tenant's jobs to (\"\" clears it).", valueName: "region"))
    var homeRegion: String?

    @Flag(name: .long, help: "Print the SetTenantResponse as JSON.")
    var json = false

    func validate() throws {
        guard !name.isEmpty else { throw ValidationError("NAME must not be empty") }
    }

    /// The tier named by --default-tier; a one-line usage error (exit 64) for anything else.
    static func tier(_ text: String) throws -> Flotilla_V1_Tier {
        guard let tier = TierArgument(rawValue: text.lowercased()) else {
            throw CommandFailure.invalidArgument(
                "invalid --default-tier '\(text)': expected one of "
                    + TierArgument.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return tier.proto
    }

    /// `current` with the fields given on the command line replaced.
    func quota(from current: Flotilla_V1_TenantQuota?) throws -> Flotilla_V1_TenantQuota {
        var quota = current ?? Flotilla_V1_TenantQuota()
        quota.tenant = name
        if let maxGPUs { quota.maxGpus = maxGPUs }
        if let maxQueuedJobs { quota.maxQueuedJobs = maxQueuedJobs }
        if let defaultTier { quota.defaultTier = try Self.tier(defaultTier) }
        if let homeRegion { quota.homeRegion = homeRegion }
        return quota
    }

    private var everyFieldGiven: Bool {
        maxGPUs != nil && maxQueuedJobs != nil && defaultTier != nil && homeRegion != nil
    }

    func run() async throws {
        _ = try quota(from: nil)  // a bad tier fails here, before any connection
        let response = try await ClusterSession.with(connection) { session in
            var current: Flotilla_V1_TenantQuota?
            if !everyFieldGiven {
                let status = try await session.request(
                    Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
                current = status.tenants.first { $0.quota.tenant == name }?.quota
            }
            var request = Flotilla_V1_SetTenantRequest()
            request.tenant = try quota(from: current)
            return try await session.request(request, expecting: Flotilla_V1_SetTenantResponse.self)
        }
        Console.line(json ? try JSONOutput.line(response) : TenantText.quota(response.tenant))
    }
}
