import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport
import Foundation

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

    func admits(_ job: Job) -> Bool { admits(tenant: job.tenant) }

    func admits(tenant: String) -> Bool {
        switch self {
        case .everyTenant: true
        case .tenant(let bound): tenant == bound
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

    /// A job retention removed: NOT_FOUND, saying so and when.
    static func removedJob(_ removal: JobRemoval) -> FlotillaError {
        FlotillaError(.notFound, "job \(removal.jobID) was removed by retention at \(Self.timestamp(removal.removedAt))")
    }

    /// Unix ms as an ISO 8601 UTC time, e.g. 2025-01-31T12:00:00.000Z.
    static func timestamp(_ unixMs: UInt64) -> String {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return Date(timeIntervalSince1970: Double(unixMs) / 1000).formatted(style)
    }
}
