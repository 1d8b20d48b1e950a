import FlotillaProto

public enum AttemptState: Hashable, Sendable, CaseIterable {
    case assigned, running, checkpointing
    case succeeded, failed, lost, preempted, cancelled

    /// Holds GPUs on its worker.
    public var isLive: Bool {
        switch self {
        case .assigned, .running, .checkpointing: true
        case .succeeded, .failed, .lost, .preempted, .cancelled: false
        }
    }
}

/// Why an attempt was asked to checkpoint and stop.
public enum CheckpointReason: Hashable, Sendable, CaseIterable {
    case stall, drain, preemption, `operator`
}

/// One placement of a job on one worker, numbered from 1 per job.
public struct Attempt: Hashable, Sendable {
    public let number: UInt32
    public let token: FencingToken
    public let workerID: WorkerID
    /// The model it runs: the spec's, or a fallback while the spec's breaker is open.
    public let model: String
    /// Placed as one of a HALF_OPEN breaker's probes: its verdict decides the breaker.
    public internal(set) var probe: Bool
    /// `Gpu.index` values on the worker: gang placement, all on one worker.
    public let gpuIndices: [UInt32]
    public internal(set) var state: AttemptState
    public let startedAt: UInt64
    /// 0 while live.
    public internal(set) var endedAt: UInt64
    /// The checkpoint the attempt was told to resume from; nil: step 0.
    public let resumeFrom: Flotilla_V1_Checkpoint?
    public internal(set) var error: String
    public internal(set) var checkpointReason: CheckpointReason?
    /// When a requested checkpoint is overdue; 0: none requested (or no deadline).
    public internal(set) var checkpointDeadline: UInt64
    /// A failure of the job's own (not a lost worker, a preemption or an
    /// unusable checkpoint): these are what `max_attempts` limits.
    public internal(set) var countsAgainstMaxAttempts: Bool

    public var isLive: Bool { state.isLive }
    public var resumedFromStep: UInt64 { resumeFrom?.step ?? 0 }
}
