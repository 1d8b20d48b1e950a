import FlotillaProto
import FlotillaTransport

/// `flotillactl operator raft` (PROTOCOL.md §11.6), admin role only, served by the leader.
extension CoordinatorService {
    func transferLeadership(_ request: Flotilla_V1_RaftTransferLeadershipRequest) async throws -> Flotilla_V1_RaftTransferLeadershipResponse {
        let started = ContinuousClock.now
        let leader = try await core.transferLeadership(to: request.to.isEmpty ? nil : request.to)
        let took = ContinuousClock.now - started
        var response = Flotilla_V1_RaftTransferLeadershipResponse()
        response.leader = leader
        response.tookMs = UInt64(took.components.seconds * 1_000 + took.components.attoseconds / 1_000_000_000_000_000)
        logger.notice("leadership transferred", metadata: ["flotilla.raft.leader": "\(leader)", "flotilla.took_ms": "\(response.tookMs)"])
        return response
    }

    func changeMembership(_ request: Flotilla_V1_RaftMembershipRequest) async throws -> Flotilla_V1_RaftMembershipResponse {
        var response = Flotilla_V1_RaftMembershipResponse()
        response.members = try await core.changeMembership(request.action, member: request.name,
                                                           address: configuration.listen.description)
        logger.notice("raft membership changed", metadata: [
            "flotilla.raft.action": "\(request.action)", "flotilla.raft.member": "\(request.name)"])
        return response
    }
}
