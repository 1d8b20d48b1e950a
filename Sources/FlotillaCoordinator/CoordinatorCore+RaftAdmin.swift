import FlotillaProto
import FlotillaRaft
import FlotillaTransport

/// What `flotillactl status` and `flotillactl operator raft` see of the group, and the
/// membership changes they ask for (one member at a time; the Raft core enforces the
/// thesis §4 rules and refuses a second change while one is pending).
extension CoordinatorCore {
    /// Every member as the leader sees it; alone, this coordinator as leader.
    func coordinatorInfos(address: String) -> [Flotilla_V1_CoordinatorInfo] {
        guard let replica else {
            var me = Flotilla_V1_CoordinatorInfo()
            me.name = name
            me.address = address
            me.state = .leader
            me.term = term
            me.commitIndex = state.lastAppliedIndex
            me.matchIndex = state.lastAppliedIndex
            me.voter = true
            me.reachable = true
            return [me]
        }
        let status = replica.node.status
        let at = now()
        let timeout = replica.settings.electionTimeoutMs
        var members = status.membership.members
        if !members.contains(name) { members.append(name) }
        return members.map { member in
            var info = Flotilla_V1_CoordinatorInfo()
            info.name = member
            info.address = replica.settings.peer(named: member)?.address.description ?? ""
            info.voter = status.membership.isVoter(member)
            info.term = status.term
            info.commitIndex = status.commit
            if member == name {
                info.state = status.role == .leader ? .leader : (status.role == .follower ? .follower : .candidate)
                info.matchIndex = status.lastIndex
                info.reachable = true
            } else {
                let heard = replica.lastHeard[member]
                info.lastContactMs = heard.map { at &- $0 } ?? 0
                info.reachable = heard.map { at &- $0 <= timeout } ?? false
                info.matchIndex = status.progress[member]?.match ?? 0
                info.state = info.reachable ? (member == status.leader ? .leader : .follower) : .unspecified
            }
            return info
        }
    }

    /// Adds, promotes or removes one member and waits until the change is applied here.
    func changeMembership(_ action: Flotilla_V1_RaftMembershipRequest.Action, member: String,
                          address: String) async throws -> [Flotilla_V1_CoordinatorInfo] {
        guard let replica else { throw FlotillaError(.failedPrecondition, "this coordinator is not replicated (no raft.peers)") }
        guard replica.isLeader else { throw notLeader() }
        guard !member.isEmpty else { throw FlotillaError(.invalidArgument, "name the member to change") }
        let index: UInt64
        do {
            switch action {
            case .addVoter, .addLearner:
                guard replica.settings.peer(named: member) != nil else {
                    throw FlotillaError(.invalidArgument,
                                        "\(member) is not in this coordinator's raft.peers: list its name and address in every member's configuration first")
                }
                if action == .addVoter { try checkMajorityReachable(voters: Set(replica.node.membership.voters).union([member]), replica) }
                index = try replica.node.addMember(member, asVoter: action == .addVoter)
            case .remove:
                if replica.node.membership.isVoter(member) {
                    try checkMajorityReachable(voters: Set(replica.node.membership.voters).subtracting([member]), replica)
                }
                index = try replica.node.removeMember(member)
            case .unspecified, .UNRECOGNIZED:
                throw FlotillaError(.invalidArgument, "action is required (ADD_VOTER, ADD_LEARNER or REMOVE)")
            }
        } catch let error as RaftError {
            throw FlotillaError(.failedPrecondition, "cannot change the membership: \(error)")
        }
        replica.readyWakeup.wake()
        let deadline = ContinuousClock.now + .milliseconds(Int64(4 * replica.settings.electionTimeoutMs))
        while state.lastAppliedIndex < index {
            guard ContinuousClock.now < deadline else {
                throw FlotillaError(.deadlineExceeded,
                                    "the membership change at \(index) did not commit within \(4 * replica.settings.electionTimeoutMs) ms (four election timeouts); a majority of the new membership must acknowledge it: see `operator raft list-peers`")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return coordinatorInfos(address: address)
    }

    /// Refuses a change after which the reachable voters are not a majority (etcd's strict
    /// reconfiguration check): its entry could never commit, and once in the log it takes
    /// effect, so the group would have no leader until the missing voters came back.
    private func checkMajorityReachable(voters: Set<String>, _ replica: RaftReplica) throws {
        let at = now()
        let reachable = voters.filter { $0 == name || replica.lastHeard[$0].map { at &- $0 <= replica.settings.electionTimeoutMs } == true }
        let quorum = Membership(voters: Array(voters)).quorum
        guard reachable.count >= quorum else {
            let missing = voters.subtracting(reachable).sorted().joined(separator: ", ")
            throw FlotillaError(.failedPrecondition,
                                "refused: the new membership's voters would be \(voters.sorted().joined(separator: ", ")), of which only \(reachable.count) \(reachable.count == 1 ? "is" : "are") reachable (\(missing) not heard from within the election timeout); \(quorum) must be, or the change can never commit and the group is left without a leader. Bring \(missing) back first")
        }
    }
}
