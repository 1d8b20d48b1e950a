/// Membership changes one server at a time (thesis §4.1): a new membership takes effect as soon
/// as its entry is in a node's log, committed or not, and a leader proposes the next only after
/// the last is committed and it has committed an entry of its own term (the fix, posted by
/// Ongaro in 2015, to the single-server change bug).
extension RaftNode {
    /// Proposes adding `member` as a learner (it receives the log but does not vote), promoting
    /// a learner to voter, or adding a voter directly.
    public mutating func addMember(_ member: NodeID, asVoter: Bool) throws(RaftError) -> UInt64 {
        var voters = membership.voters.filter { $0 != member }
        var learners = membership.learners.filter { $0 != member }
        if asVoter { voters.append(member) } else { learners.append(member) }
        return try proposeMembership(Membership(voters: voters, learners: learners))
    }

    public mutating func removeMember(_ member: NodeID) throws(RaftError) -> UInt64 {
        guard membership.contains(member) else { throw .unknownPeer(member) }
        return try proposeMembership(Membership(voters: membership.voters.filter { $0 != member },
                                                learners: membership.learners.filter { $0 != member }))
    }

    mutating func proposeMembership(_ next: Membership) throws(RaftError) -> UInt64 {
        try checkCanPropose()
        guard membershipIndex <= log.committed, log.term(at: log.committed) == term else {
            throw .membershipChangePending
        }
        let change = membership.singleChange(to: next)
        guard change.count == 1 else {
            throw .invalidMembershipChange(change.count == 0 ? "nothing changes" : "only one member may change at a time")
        }
        guard !next.voters.isEmpty else { throw .invalidMembershipChange("the last voter cannot be removed") }
        return appendAsLeader(.membership(next)).index
    }

    /// Called after entries were added to the log: the newest membership entry takes effect.
    mutating func noteMembershipEntries(_ entries: [Entry]) {
        let replacedCurrent = membershipIndex > log.lastIndex
            || (membershipIndex > log.snapshotIndex && log.entry(at: membershipIndex).map(Self.isMembership) != true)
        guard replacedCurrent || entries.contains(where: Self.isMembership) else { return }
        let (found, index) = Self.membership(in: log)
        adopt(found, at: index)
    }

    mutating func adopt(_ next: Membership, at index: UInt64) {
        membership = next
        membershipIndex = index
        guard role == .leader else { return }
        for member in next.members {
            if progress[member] == nil {
                progress[member] = Progress(next: log.lastIndex + 1, isLearner: !next.isVoter(member))
            } else {
                progress[member]!.isLearner = !next.isVoter(member)
            }
        }
        for member in progress.keys where !next.contains(member) && member != id {
            progress[member] = nil
        }
        if transferee.map({ !next.isVoter($0) }) == true { transferee = nil }
        maybeCommit()  // a smaller majority may already hold more
    }

    /// Runs whenever the commit index may have moved.
    mutating func committedAdvanced() {
        // A leader that removed itself leads until the change commits, then steps down.
        if role == .leader, membershipIndex <= log.committed, !membership.isVoter(id) {
            becomeFollower(term: term, leader: nil)
            return
        }
        if role == .leader { releaseReadsWaitingForFirstCommit() }
    }

    static func isMembership(_ entry: Entry) -> Bool {
        if case .membership = entry.payload { return true }
        return false
    }

    /// The last membership entry in the log, or the snapshot's membership.
    static func membership(in log: RaftLog) -> (Membership, UInt64) {
        var index = log.lastIndex
        while index > log.snapshotIndex {
            if case .membership(let found)? = log.entry(at: index)?.payload { return (found, index) }
            index -= 1
        }
        return (log.snapshot.membership, log.snapshotIndex)
    }

    /// The membership in effect at `index`, for the snapshot the shell takes there.
    public func membership(at index: UInt64) -> Membership {
        var candidate = min(index, log.lastIndex)
        while candidate > log.snapshotIndex {
            if case .membership(let found)? = log.entry(at: candidate)?.payload { return found }
            candidate -= 1
        }
        return log.snapshot.membership
    }
}
