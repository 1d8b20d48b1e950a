import FlotillaRaftSimulation

/// One seeded run of a simulated region: coordinators replicating one log with Raft, each
/// applying it to its own `CoordinatorState` and planning when it leads, with simulated workers
/// running jobs and clients submitting them. A step is one Raft tick, 100 ms of virtual time.
public struct ClusterSimulationOptions: Equatable, Sendable {
    public var seed: UInt64
    public var coordinators: Int
    public var workers: Int
    /// Steps of faults and traffic; then everything heals and every job must end.
    public var steps: Int
    /// Between coordinators, per message; between parties and coordinators, per call and reply.
    public var dropPercent: Int
    public var duplicatePercent: Int
    public var maxDelay: Int
    /// Per coordinator per step, in tenths of a percent.
    public var crashPerMille: Int
    /// Per step, in tenths of a percent: the leader crashes.
    public var leaderCrashPerMille: Int
    /// Per step: cut the coordinators in two (or isolate the leader), or heal.
    public var partitionPercent: Int
    /// Per worker per step, in tenths of a percent: the worker is cut off from every
    /// coordinator for 1 to 25 s (its calls, answers and directive stream are lost), often
    /// past its fencing time and past the heartbeat timeout that declares it lost.
    public var workerCutPerMille: Int
    /// Per step: a client submits a new job.
    public var submitPercent: Int
    /// A coordinator handles its Ready on a step with this chance (a slow disk delays it).
    public var readyPercent: Int
    /// Steps between snapshots on each coordinator.
    public var compactEvery: Int
    /// After healing, every acknowledged job must succeed and every replica agree within this.
    public var recoveryBound: Int
    /// The planner's health timings (the defaults: 15 s, and a grace of one timeout). Only a
    /// test that the checks can fail changes them.
    public var heartbeatTimeoutMs: UInt64 = 15_000
    public var restartGraceMs: UInt64?
    /// Leaders project every seventh of their own commands as an entry without one, so their
    /// projection leaves the log. Only the test that the projection check can fail sets it.
    public var projectionFault = false

    public init(seed: UInt64, coordinators: Int = 3, workers: Int = 3, steps: Int = 600, dropPercent: Int = 3,
                duplicatePercent: Int = 2, maxDelay: Int = 3, crashPerMille: Int = 2, leaderCrashPerMille: Int = 8,
                partitionPercent: Int = 1, workerCutPerMille: Int = 2, submitPercent: Int = 10, readyPercent: Int = 85,
                compactEvery: Int = 50, recoveryBound: Int = 1_500) {
        self.seed = seed
        self.coordinators = coordinators
        self.workers = workers
        self.steps = steps
        self.dropPercent = dropPercent
        self.duplicatePercent = duplicatePercent
        self.maxDelay = maxDelay
        self.crashPerMille = crashPerMille
        self.leaderCrashPerMille = leaderCrashPerMille
        self.partitionPercent = partitionPercent
        self.workerCutPerMille = workerCutPerMille
        self.submitPercent = submitPercent
        self.readyPercent = readyPercent
        self.compactEvery = compactEvery
        self.recoveryBound = recoveryBound
    }

    /// The one-line command that replays this run exactly, with a trace of every step.
    public var replayCommand: String {
        "flotilla-bench cluster-sim --seed \(seed) --coordinators \(coordinators) --workers \(workers) --steps \(steps) --verbose"
    }
}

/// What a run did: enough to see that it was hostile and busy.
public struct ClusterSimulationReport: Equatable, Sendable {
    public var seed: UInt64
    public var leadersElected = 0
    public var crashes = 0
    public var partitions = 0
    /// Workers cut off from every coordinator.
    public var workerCuts = 0
    public var submissions = 0
    public var acknowledged = 0
    /// Acknowledged submissions that were resent (timeouts, NOT_LEADER) before their answer.
    public var resent = 0
    public var succeeded = 0
    public var attempts = 0
    /// Jobs that needed more than one attempt (an assignment lost with a leader, a fenced worker).
    public var reattempted = 0
    public var snapshotsInstalled = 0
    public var workerSessions = 0
    /// Workers that fenced themselves (no acknowledgement for too long) and stopped their jobs.
    public var fencings = 0
    public var recoverySteps = 0

    public init(seed: UInt64) { self.seed = seed }

    public mutating func add(_ other: Self) {
        leadersElected += other.leadersElected
        crashes += other.crashes
        partitions += other.partitions
        workerCuts += other.workerCuts
        submissions += other.submissions
        acknowledged += other.acknowledged
        resent += other.resent
        succeeded += other.succeeded
        attempts += other.attempts
        reattempted += other.reattempted
        snapshotsInstalled += other.snapshotsInstalled
        workerSessions += other.workerSessions
        fencings += other.fencings
        recoverySteps = max(recoverySteps, other.recoverySteps)
    }
}
