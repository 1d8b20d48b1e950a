/// One Raft message. A single shape for every kind keeps the core's step function and the
/// scenario printer simple; fields a kind does not use stay zero.
public struct Message: Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable, CaseIterable {
        case preVote = "pre-vote", preVoteResponse = "pre-vote-response"
        case vote, voteResponse = "vote-response"
        case append, appendResponse = "append-response"
        case heartbeat, heartbeatResponse = "heartbeat-response"
        case snapshot
        case timeoutNow = "timeout-now"
        case readIndex = "read-index", readIndexResponse = "read-index-response"
    }

    public var kind: Kind
    public var from: NodeID
    public var to: NodeID
    public var term: UInt64
    /// append: the previous entry's term; vote: the candidate's last term; a rejected append's
    /// response: the term at `rejectHint`.
    public var logTerm: UInt64 = 0
    /// append: the previous entry's index; vote: the candidate's last index; append response:
    /// the follower's last matching index (or, rejected, the index it refused); read index: the
    /// commit index to wait for.
    public var index: UInt64 = 0
    public var entries: [Entry] = []
    public var commit: UInt64 = 0
    public var reject: Bool = false
    /// On a rejected append: the follower's guess at the last index where the logs may agree.
    public var rejectHint: UInt64 = 0
    public var snapshot: Snapshot? = nil
    /// Correlates heartbeats with read-index requests; zero means none.
    public var context: UInt64 = 0
    /// A vote caused by a leadership transfer, which a node honours even inside a leader's lease.
    public var transfer: Bool = false

    public init(kind: Kind, from: NodeID, to: NodeID, term: UInt64) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
    }

    var isVoteRequest: Bool { kind == .vote || kind == .preVote }
    var isFromLeader: Bool { kind == .append || kind == .heartbeat || kind == .snapshot }
}

/// A read-index request that a quorum has confirmed: once `index` is applied, the state answers
/// reads as of a time after the request arrived (linearizable).
public struct ReadState: Equatable, Sendable {
    public var index: UInt64
    public var context: UInt64
}
