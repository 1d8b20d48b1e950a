/// Leadership transfer (thesis §3.10): the leader stops taking proposals, brings the target's
/// log up to date, and tells it to start an election at once (TimeoutNow). The target's vote
/// requests carry `transfer`, so the others grant them inside the current leader's lease.
extension RaftNode {
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard target != id else { return }
        guard membership.isVoter(target) else { throw .unknownPeer(target) }
        if transferee == target { return }
        transferee = target
        electionElapsed = 0  // the transfer is abandoned after one election timeout
        if progress[target]?.match == log.lastIndex {
            send(Message(kind: .timeoutNow, from: id, to: target, term: term))
        } else {
            sendAppend(to: target)
        }
    }

    /// The voter that is most up to date, other than this leader: the best target when the
    /// operator names none.
    public var bestTransferTarget: NodeID? {
        membership.voters.filter { $0 != id }
            .max { (progress[$0]?.match ?? 0, $1) < (progress[$1]?.match ?? 0, $0) }
    }
}
