import FlotillaRandom

/// One member of a Raft group as a value: no I/O, no clock, no threads. The shell feeds it
/// ticks, received messages and proposals, takes `ready()` and does what it says, then calls
/// `advance(_:)`. Everything it does is decided by its inputs and its seed, so a simulation or
/// a scenario script replays exactly. The design follows etcd-io/raft.
public struct RaftNode: Sendable {
    public let options: RaftOptions
    public var id: NodeID { options.id }

    public internal(set) var role: Role = .follower
    public internal(set) var term: UInt64 = 0
    public internal(set) var vote: NodeID?
    /// The leader of the current term, when known.
    public internal(set) var leader: NodeID?
    var log: RaftLog

    /// The membership in effect: that of the last membership entry in the log, or the snapshot's.
    public internal(set) var membership: Membership
    var membershipIndex: UInt64

    /// Leader only: each member's replication progress, itself included.
    public internal(set) var progress: [NodeID: Progress] = [:]
    /// Candidates: who answered, and how.
    var votes: [NodeID: Bool] = [:]
    /// Leader only: the member leadership is being handed to.
    public internal(set) var transferee: NodeID?
    var reads = PendingReads()

    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTicks: Int
    var random: SplitMix64

    var outbox: [Message] = []
    var readStates: [ReadState] = []
    var lastHardState: HardState
    var lastLeadership: Leadership
    var readyInProgress = false
    /// Elections this node has started (pre-votes that turned into elections count once).
    public internal(set) var electionsStarted = 0

    public init(options: RaftOptions, stored: StoredState = StoredState(), bootstrap: Membership = .none) {
        self.options = options
        let snapshot = stored.snapshot ?? Snapshot(index: 0, term: 0, membership: bootstrap, data: [])
        log = RaftLog(snapshot: snapshot, entries: stored.entries, commit: stored.hardState.commit)
        (membership, membershipIndex) = Self.membership(in: log)
        term = stored.hardState.term
        vote = stored.hardState.vote
        random = SplitMix64(seed: options.seed)
        randomizedElectionTicks = options.electionTicks
        lastHardState = HardState(term: term, vote: vote, commit: log.committed)
        lastLeadership = Leadership(role: .follower, leader: nil, term: term)
        resetElectionTimer()
    }

    // MARK: - Read-only views

    public var commitIndex: UInt64 { log.committed }
    public var appliedIndex: UInt64 { log.applied }
    public var lastIndex: UInt64 { log.lastIndex }
    public var lastTerm: UInt64 { log.lastTerm }
    public var firstIndex: UInt64 { log.firstIndex }
    public var snapshotIndex: UInt64 { log.snapshotIndex }
    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    public func term(at index: UInt64) -> UInt64? { log.term(at: index) }
    public func entry(at index: UInt64) -> Entry? { log.entry(at: index) }
    /// A voter of the current membership may stand for election.
    public var isPromotable: Bool { membership.isVoter(id) }

    // MARK: - Inputs

    /// One unit of time.
    public mutating func tick() {
        if role == .leader { tickLeader() } else { tickElection() }
    }

    /// Starts an election now (a pre-vote first, when enabled), as if the timer had run out.
    public mutating func campaign() {
        startElection(transfer: false)
    }

    /// A message from another member of the group.
    public mutating func step(_ message: Message) {
        guard message.to == id, message.from != id else { return }
        guard acceptTerm(of: message) else { return }
        switch message.kind {
        case .preVote, .vote:
            handleVoteRequest(message)
        case .preVoteResponse, .voteResponse:
            handleVoteResponse(message)
        case .append, .heartbeat, .snapshot:
            handleLeaderMessage(message)
        case .appendResponse:
            if role == .leader { handleAppendResponse(message) }
        case .heartbeatResponse:
            if role == .leader { handleHeartbeatResponse(message) }
        case .timeoutNow:
            // Only a voter that is not already leading acts on it, and skips the pre-vote: the
            // leader asked for this election.
            if role != .leader { startElection(transfer: true) }
        case .readIndex:
            if role == .leader { handleReadIndex(from: message.from, context: message.context) }
        case .readIndexResponse:
            readStates.append(ReadState(index: message.index, context: message.context))
        }
    }

    /// Proposes a command; returns the index it will have if it commits in `term`. It fails if
    /// this node stops leading before then: the shell sees another term at that index.
    public mutating func propose(_ command: [UInt8]) throws(RaftError) -> (index: UInt64, term: UInt64) {
        try checkCanPropose()
        return appendAsLeader(.command(command))
    }

    /// Several commands in one append, so that one storage sync covers them all.
    public mutating func propose(batch commands: [[UInt8]]) throws(RaftError) -> (first: UInt64, term: UInt64) {
        try checkCanPropose()
        let first = log.lastIndex + 1
        appendAsLeader(commands.map { .command($0) })
        return (first, term)
    }

    func checkCanPropose() throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard transferee == nil else { throw .transferInProgress }
    }

    // MARK: - Role changes

    mutating func becomeFollower(term newTerm: UInt64, leader newLeader: NodeID?) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        reset(term: term)
        role = .leader
        leader = id
        for member in membership.members {
            progress[member] = Progress(next: log.lastIndex + 1, isLearner: !membership.isVoter(member))
        }
        // The empty entry lets the new leader commit, and so learn which entries are committed.
        appendAsLeader(.empty)
    }

    /// Clears what belongs to one term. A new term forgets the vote.
    mutating func reset(term newTerm: UInt64) {
        if newTerm != term {
            term = newTerm
            vote = nil
        }
        leader = nil
        electionElapsed = 0
        heartbeatElapsed = 0
        resetElectionTimer()
        votes = [:]
        progress = [:]
        transferee = nil
        reads = PendingReads()
    }

    mutating func resetElectionTimer() {
        randomizedElectionTicks = options.electionTicks + random.below(options.electionTicks)
    }

    mutating func send(_ message: Message) {
        outbox.append(message)
    }

    // MARK: - Timers

    mutating func tickElection() {
        electionElapsed += 1
        if isPromotable, electionElapsed >= randomizedElectionTicks {
            electionElapsed = 0
            startElection(transfer: false)
        }
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= options.electionTicks {
            electionElapsed = 0
            if options.checkQuorum, !quorumActive() {
                becomeFollower(term: term, leader: nil)
                return
            }
            transferee = nil  // a transfer that did not finish in an election timeout is abandoned
        }
        for member in progress.keys.sorted() where progress[member]!.state == .snapshot {
            progress[member]!.snapshotTicks += 1
        }
        if heartbeatElapsed >= options.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat(context: reads.newestContext)
        }
    }

    /// Check-quorum: true when a majority of voters (this leader included) were heard from
    /// since the last check. Clears the marks for the next round.
    mutating func quorumActive() -> Bool {
        var active = 0
        for voter in membership.voters {
            if voter == id || progress[voter]?.recentActive == true { active += 1 }
        }
        for member in progress.keys { progress[member]!.recentActive = (member == id) }
        return active >= membership.quorum
    }

    // MARK: - Terms

    /// Applies the term rules every message passes first (§5.1, plus pre-vote and the lease).
    /// False when the message must be dropped.
    mutating func acceptTerm(of message: Message) -> Bool {
        if message.term > term {
            if message.isVoteRequest {
                // Within a leader's lease, a vote request is from a node that was cut off, not a
                // sign the leader is gone: ignore it, unless the leader itself asked (transfer).
                let inLease = options.checkQuorum && leader != nil && electionElapsed < options.electionTicks
                if inLease, !message.transfer { return false }
            }
            switch message.kind {
            case .preVote:
                break  // a pre-vote never changes this node's term
            case .preVoteResponse where !message.reject:
                break  // a granted pre-vote carries the term the candidate will use
            default:
                becomeFollower(term: message.term, leader: message.isFromLeader ? message.from : nil)
            }
            return true
        }
        if message.term < term {
            if (options.checkQuorum || options.preVote), message.kind == .append || message.kind == .heartbeat {
                // A leader from an older term that never learns of the newer one would keep
                // sending; tell it (with pre-vote, no vote request would ever reach it).
                send(Message(kind: .appendResponse, from: id, to: message.from, term: term))
            } else if message.kind == .preVote {
                var response = Message(kind: .preVoteResponse, from: id, to: message.from, term: term)
                response.reject = true
                send(response)
            }
            return false
        }
        return true
    }
}
