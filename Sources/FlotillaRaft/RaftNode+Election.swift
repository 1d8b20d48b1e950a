/// Elections (§5.2) with pre-vote (thesis §9.6).
extension RaftNode {
    mutating func startElection(transfer: Bool) {
        guard role != .leader, isPromotable else { return }
        if options.preVote, !transfer {
            role = .preCandidate
            leader = nil
            votes = [:]
            requestVotes(kind: .preVote, term: term + 1, transfer: false)
        } else {
            becomeCandidate()
            requestVotes(kind: .vote, term: term, transfer: transfer)
        }
    }

    mutating func becomeCandidate() {
        reset(term: term + 1)
        role = .candidate
        vote = id
        electionsStarted += 1
    }

    mutating func requestVotes(kind: Message.Kind, term electionTerm: UInt64, transfer: Bool) {
        votes[id] = true
        if tallyWon() {
            winElection(kind: kind)
            return
        }
        for voter in membership.voters where voter != id {
            var request = Message(kind: kind, from: id, to: voter, term: electionTerm)
            request.index = log.lastIndex
            request.logTerm = log.lastTerm
            request.transfer = transfer
            send(request)
        }
    }

    mutating func winElection(kind: Message.Kind) {
        if kind == .preVote {
            becomeCandidate()
            requestVotes(kind: .vote, term: term, transfer: false)
        } else {
            becomeLeader()
        }
    }

    func tallyWon() -> Bool {
        membership.voters.filter { votes[$0] == true }.count >= membership.quorum
    }

    func tallyLost() -> Bool {
        membership.voters.filter { votes[$0] == false }.count >= membership.quorum
    }

    mutating func handleVoteRequest(_ request: Message) {
        let isPre = request.kind == .preVote
        // A node votes once per term; a pre-vote for a later term binds nothing.
        let free = vote == request.from || (vote == nil && leader == nil) || (isPre && request.term > term)
        let granted = free && log.isUpToDate(lastIndex: request.index, lastTerm: request.logTerm)
        var response = Message(kind: isPre ? .preVoteResponse : .voteResponse, from: id, to: request.from,
                               term: granted ? request.term : term)
        response.reject = !granted
        if granted, !isPre {
            vote = request.from
            electionElapsed = 0
        }
        send(response)
    }

    mutating func handleVoteResponse(_ response: Message) {
        let expected: Message.Kind = role == .preCandidate ? .preVoteResponse : .voteResponse
        guard role == .preCandidate || role == .candidate, response.kind == expected else { return }
        guard membership.isVoter(response.from), votes[response.from] == nil else { return }
        votes[response.from] = !response.reject
        if tallyWon() {
            winElection(kind: role == .preCandidate ? .preVote : .vote)
        } else if tallyLost() {
            becomeFollower(term: term, leader: nil)
        }
    }
}

extension RaftNode {
    /// A follower learned that its leader is gone (the shell saw the leader's connection close,
    /// as it does when the leader's process dies). It forgets the leader, which ends the lease
    /// under which it would refuse votes, and campaigns after 1 + `spacing` × rank ticks instead
    /// of a whole election timeout, its rank being its place among the other voters (sorted).
    /// The followers hear of the loss together; drawn at random, their campaigns would often
    /// fall in the same tick and split the vote, costing an election timeout. Ranked, the
    /// first campaigns alone, and the next follows only if it could not win (its log behind).
    ///
    /// Safe whatever the truth: the campaign is a pre-vote, which succeeds only if a majority
    /// also stopped hearing from the leader; a live leader's next message restores everything.
    /// etcd-io/raft has the same input (`ForgetLeader`), without the shortened timer.
    public mutating func forgetLeader(spacing ticks: Int = 2) {
        guard role == .follower, let departed = leader else { return }
        leader = nil
        let others = membership.voters.filter { $0 != departed }
        let rank = others.firstIndex(of: id) ?? others.count
        let soon = 1 + max(1, ticks) * rank
        electionElapsed = max(electionElapsed, randomizedElectionTicks - soon)
    }
}
