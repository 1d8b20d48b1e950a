/// How one node of a Raft group behaves. Time is counted in ticks: the shell calls `tick()`
/// once per heartbeat interval's share of time (Flotilla ticks every `heartbeat_interval`).
public struct RaftOptions: Equatable, Sendable {
    public var id: NodeID
    /// A follower that hears nothing from a leader for between this many and twice this many
    /// ticks (randomized per term) starts an election; a leader checks its quorum this often.
    public var electionTicks: Int
    /// A leader sends heartbeats this often.
    public var heartbeatTicks: Int
    /// Ask for votes without raising the term first, so a node cut off and rejoining cannot
    /// force an election it cannot win (thesis §9.6).
    public var preVote: Bool
    /// A leader that has not heard from a majority for `electionTicks` steps down, and nodes
    /// that heard from a leader recently refuse votes (the lease that protects it).
    public var checkQuorum: Bool
    public var maxBytesPerMessage: Int
    public var maxEntriesPerMessage: Int
    /// Append messages a leader keeps in flight per follower while replicating (pipelining).
    public var maxInflight: Int
    /// Seeds the election timeout draws, so a run replays exactly.
    public var seed: UInt64

    public init(
        id: NodeID, electionTicks: Int = 10, heartbeatTicks: Int = 1, preVote: Bool = true,
        checkQuorum: Bool = true, maxBytesPerMessage: Int = 1 << 20, maxEntriesPerMessage: Int = 4096,
        maxInflight: Int = 256, seed: UInt64 = 1
    ) {
        precondition(electionTicks > heartbeatTicks && heartbeatTicks > 0, "election ticks must exceed heartbeat ticks")
        self.id = id
        self.electionTicks = electionTicks
        self.heartbeatTicks = heartbeatTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.maxBytesPerMessage = maxBytesPerMessage
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.maxInflight = maxInflight
        self.seed = seed
    }
}

/// What the shell read back from stable storage at start. A new node has none of it; the
/// bootstrap membership then stands for the configuration before the first entry.
public struct StoredState: Equatable, Sendable {
    public var hardState: HardState
    public var snapshot: Snapshot?
    /// Entries after the snapshot, in order.
    public var entries: [Entry]

    public init(hardState: HardState = HardState(), snapshot: Snapshot? = nil, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}
