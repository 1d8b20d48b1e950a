import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport

/// Whose jobs a peer may submit, see and cancel (PROTOCOL.md §9.2). Only the
/// certificate decides: a client acts for the tenant it names, or `default`
/// when it names none, so an old tenant-less certificate keeps working but
/// sees no other tenant's jobs. Admins, coordinators and routers act for every tenant.
enum TenantScope: Sendable, Hashable {
    case everyTenant
    case tenant(String)

    init(_ peer: PeerInfo) {
        if peer.identity.role == .client {
            self = .tenant(peer.identity.tenant ?? CoordinatorState.defaultTenant)
        } else {
            self = .everyTenant
        }
    }

    func admits(_ job: Job) -> Bool {
        switch self {
        case .everyTenant: true
        case .tenant(let tenant): job.tenant == tenant
        }
    }

    /// The tenant a submission or a job list is for: the certificate's when the
    /// request names none; naming another is refused rather than silently rewritten.
    /// `action` completes the refusal, e.g. "submit jobs for".
    func tenant(naming requested: String, to action: String) throws -> String {
        guard case .tenant(let bound) = self else { return requested }
        guard requested.isEmpty || requested == bound else {
            throw FlotillaError(.permissionDenied,
                                "this certificate is bound to tenant \(bound); it may not \(action) tenant \(requested)")
        }
        return bound
    }

    /// A job the peer may not see reads exactly like one that does not exist,
    /// so that a client cannot probe other tenants' job ids.
    static func unknownJob(_ jobID: String) -> FlotillaError {
        FlotillaError(.notFound, "no job \(jobID)")
    }
}
