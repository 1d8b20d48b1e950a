import FlotillaCoordinatorState
import FlotillaPKI
import FlotillaProto
import FlotillaTransport
import FlotillaWire
import Logging
import SwiftProtobuf

/// The coordinator's protocol surface: each request becomes a read of the
/// state or a proposal to the log. Roles were already checked by the server
/// (RolePolicy); here a worker may also speak only for itself.
struct CoordinatorService: FlotillaService {
    let core: CoordinatorCore
    let configuration: CoordinatorConfiguration
    let logger: Logger
    /// Scaling signals sampled by the planner loop, for the cluster status.
    let scaling: CoordinatorScaling
    let drills: DrillRunner

    func handle(_ request: InboundRequest) async -> ServiceReply {
        do {
            guard await core.isServing else {
                throw FlotillaError(.unavailable, "the coordinator is starting or its log failed", retryAfterMilliseconds: 500)
            }
            // A replicated member that does not lead serves nothing but consensus and health.
            if let redirect = await core.redirect() { throw redirect }
            return try await route(request)
        } catch let error as FlotillaError {
            return .failure(error)
        } catch {
            logger.error("request failed", metadata: ["flotilla.kind": "\(request.kind)", "error": "\(error)"])
            return .failure(FlotillaError(.internal, "\(error)"))
        }
    }

    func connectionClosed(_ peer: PeerInfo) async {
        core.raftInbox?.connectionClosed(peer.connectionID)
        if peer.identity.role == .coordinator { await core.peerConnectionClosed(peer.identity.name) }
        await core.connectionClosed(peer.connectionID)
    }

    /// Consensus messages go to the Raft inbox in arrival order (PROTOCOL.md §4.5).
    func receiveInOrder(_ request: InboundRequest) -> Bool {
        core.raftInbox?.receive(request) ?? false
    }

    private func route(_ request: InboundRequest) async throws -> ServiceReply {
        let message = request.message
        switch message {
        case let m as Flotilla_V1_RegisterWorkerRequest: return .message(try await registerWorker(m, peer: request.peer))
        case let m as Flotilla_V1_HeartbeatRequest: return .message(try await heartbeat(m, peer: request.peer))
        case let m as Flotilla_V1_SubscribeDirectivesRequest: return .stream(try await subscribe(m, peer: request.peer))
        case let m as Flotilla_V1_ProgressReport: return .message(try await progress(m, peer: request.peer))
        case let m as Flotilla_V1_CheckpointReport: return .message(try await checkpoint(m, peer: request.peer))
        case let m as Flotilla_V1_AttemptResult: return .message(try await result(m, peer: request.peer))
        case let m as Flotilla_V1_ReportBatch: return .message(try await reportBatch(m, peer: request.peer))
        case let m as Flotilla_V1_DrainNotice: return .message(try await drainNotice(m, peer: request.peer))
        case let m as Flotilla_V1_SubmitJobRequest: return .message(try await submit(m, peer: request.peer))
        case let m as Flotilla_V1_SubmitJobsRequest: return .message(try await submitBatch(m, peer: request.peer))
        case let m as Flotilla_V1_GetJobRequest: return .message(try await getJob(m, peer: request.peer))
        case let m as Flotilla_V1_ListJobsRequest: return .message(try await listJobs(m, peer: request.peer))
        case let m as Flotilla_V1_WatchJobRequest: return .stream(try await core.watch(JobID(m.jobID), visibleTo: TenantScope(request.peer)))
        case let m as Flotilla_V1_CancelJobRequest: return .message(try await cancel(m, peer: request.peer))
        case is Flotilla_V1_ClusterStatusRequest: return .message(await clusterStatus())
        case is Flotilla_V1_ListWorkersRequest: return .message(await listWorkers())
        case let m as Flotilla_V1_DrainWorkerRequest: return .message(try await drainWorker(m))
        case let m as Flotilla_V1_SetTenantRequest: return .message(try await setTenant(m))
        case is Flotilla_V1_ListBreakersRequest: return .message(await listBreakers())
        case let m as Flotilla_V1_BreakerActionRequest: return .message(try await actOnBreaker(m))
        case let m as Flotilla_V1_DrillRequest where m.kind == .unspecified:
            // §11.5: a drill of no kind is a malformed request, whatever this version runs.
            throw FlotillaError(.invalidArgument, "DrillRequest.kind is required (KILL_WORKER, FREEZE_WORKER, ...)")
        case let m as Flotilla_V1_DrillRequest: return .message(try await drills.run(m, startedBy: request.peer.identity.name))
        case let m as Flotilla_V1_ListDrillsRequest: return .message(await listDrills(m))
        case let m as Flotilla_V1_GetDrillRequest: return .message(try await getDrill(m))
        case let m as Flotilla_V1_RaftTransferLeadershipRequest: return .message(try await transferLeadership(m))
        case let m as Flotilla_V1_RaftMembershipRequest: return .message(try await changeMembership(m))
        default:
            throw FlotillaError(.failedPrecondition,
                                "\(request.kind) is not served by this coordinator version (single region)")
        }
    }
}
