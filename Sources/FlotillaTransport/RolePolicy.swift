import FlotillaPKI
import FlotillaProto
import FlotillaWire

/// Which role may send which request (PROTOCOL.md, "Roles"). The server checks every
/// request against it before anything runs; a refusal is PERMISSION_DENIED.
public enum RolePolicy {
    static let jobSenders: Set<NodeRole> = [.client, .admin, .router, .coordinator]

    /// The roles allowed to send `kind` as a request or one-way message; empty: nobody
    /// (responses and stream items are only ever sent by servers).
    public static func allowedSenders(of kind: MessageKind) -> Set<NodeRole> {
        switch kind {
        case .ping, .streamCancel:
            return Set(NodeRole.allCases)
        case .registerWorkerRequest, .heartbeatRequest, .subscribeDirectivesRequest,
            .progressReport, .checkpointReport, .attemptResult, .reportBatch, .drainNotice:
            return [.worker]
        case .submitJobRequest, .submitJobsRequest, .getJobRequest, .listJobsRequest, .watchJobRequest, .cancelJobRequest:
            return jobSenders
        case .clusterStatusRequest, .listWorkersRequest, .drainWorkerRequest, .listBreakersRequest,
            .breakerActionRequest, .setTenantRequest, .drillRequest, .listDrillsRequest, .getDrillRequest, .listRegionsRequest,
            .raftTransferLeadershipRequest, .raftMembershipRequest:
            return [.admin]
        case .raftMessage, .raftSnapshotChunk, .replicateRequest:
            return [.coordinator]
        case .regionHealthRequest:
            return [.router, .coordinator]
        default:
            return []
        }
    }

    public static func permits(_ role: NodeRole, toSend kind: MessageKind) -> Bool {
        allowedSenders(of: kind).contains(role)
    }
}

extension NodeRole {
    public init?(_ proto: Flotilla_V1_Role) {
        switch proto {
        case .coordinator: self = .coordinator
        case .worker: self = .worker
        case .router: self = .router
        case .admin: self = .admin
        case .client: self = .client
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Flotilla_V1_Role {
        switch self {
        case .coordinator: return .coordinator
        case .worker: return .worker
        case .router: return .router
        case .admin: return .admin
        case .client: return .client
        }
    }
}
