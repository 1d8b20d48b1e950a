/// One seeded run of a simulated Raft group. The fault rates are percentages per step (one
/// step is one tick of every node's clock). Defaults are harsh on purpose: a run of 1,000
/// steps sees dozens of drops, several crashes and partitions, and many elections.
public struct SimulationOptions: Equatable, Sendable {
    public var seed: UInt64
    public var nodes: Int
    /// Steps of faults and traffic, then a healed phase that must reach agreement.
    public var steps: Int
    public var electionTicks: Int
    public var dropPercent: Int
    public var duplicatePercent: Int
    /// Messages arrive 0...maxDelay steps after they are sent, so they overtake one another.
    public var maxDelay: Int
    /// Per node per step, in tenths of a percent.
    public var crashPerMille: Int
    /// Per step, in tenths of a percent: the current leader crashes.
    public var leaderCrashPerMille: Int
    /// Per step: cut the group in two, or heal the cut.
    public var partitionPercent: Int
    public var proposePercent: Int
    /// A node processes its Ready on a step with this chance (a slow disk delays it).
    public var readyPercent: Int
    /// Steps between snapshots on each node.
    public var compactEvery: Int
    /// Start with three voters and let the leader add, promote and remove members.
    public var membershipChanges: Bool
    /// The healed phase must elect a leader and commit a new entry within this many steps.
    public var recoveryBound: Int
    /// Followers are told when their leader's connection closes, as a coordinator is
    /// (`RaftNode.forgetLeader`): on most leader crashes, and now and then falsely.
    public var leaderHints: Bool

    public init(
        seed: UInt64, nodes: Int = 3, steps: Int = 600, electionTicks: Int = 10, dropPercent: Int = 5,
        duplicatePercent: Int = 2, maxDelay: Int = 3, crashPerMille: Int = 3, leaderCrashPerMille: Int = 15, partitionPercent: Int = 2,
        proposePercent: Int = 30, readyPercent: Int = 85, compactEvery: Int = 40, membershipChanges: Bool = false,
        recoveryBound: Int = 400, leaderHints: Bool = false
    ) {
        self.seed = seed
        self.nodes = nodes
        self.steps = steps
        self.electionTicks = electionTicks
        self.dropPercent = dropPercent
        self.duplicatePercent = duplicatePercent
        self.maxDelay = maxDelay
        self.crashPerMille = crashPerMille
        self.leaderCrashPerMille = leaderCrashPerMille
        self.partitionPercent = partitionPercent
        self.proposePercent = proposePercent
        self.readyPercent = readyPercent
        self.compactEvery = compactEvery
        self.membershipChanges = membershipChanges
        self.recoveryBound = recoveryBound
        self.leaderHints = leaderHints
    }

    /// The one-line command that replays this run exactly.
    public var replayCommand: String {
        "flotilla-bench raft-sim --seed \(seed) --nodes \(nodes) --steps \(steps)"
            + (membershipChanges ? " --membership" : "") + (leaderHints ? " --leader-hints" : "") + " --verbose"
    }
}

/// What a run did, for the bench's summary and the tests' sanity checks.
public struct SimulationReport: Equatable, Sendable {
    public var seed: UInt64
    public var leadersElected = 0
    public var highestTerm: UInt64 = 0
    public var proposals = 0
    public var acknowledged = 0
    public var committed: UInt64 = 0
    public var crashes = 0
    public var partitions = 0
    public var messagesDelivered = 0
    public var messagesDropped = 0
    public var snapshotsSent = 0
    public var membershipChanges = 0
    public var leaderHints = 0
    /// Steps from healing everything to a committed and everywhere-applied new entry.
    public var recoverySteps = 0

    public init(seed: UInt64) { self.seed = seed }
}

/// A broken invariant, with where it broke and how to see it again.
public struct SimulationFailure: Error, CustomStringConvertible, Sendable {
    public var seed: UInt64
    public var step: Int
    public var invariant: String
    public var replay: String
    public var description: String { "seed \(seed), step \(step): \(invariant)\n  replay: \(replay)" }
}
