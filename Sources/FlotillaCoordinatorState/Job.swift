import FlotillaProto

public enum JobState: Hashable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    /// A job reaches exactly one terminal state and never leaves it.
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }
}

/// What a user submitted, and everything that has happened to it since.
public struct Job: Hashable, Sendable {
    public let id: JobID
    /// Log index of the submission: the queue's order.
    public let sequence: UInt64
    /// The submitted spec with defaults applied (tenant, tier, GPUs, attempts).
    public let spec: Flotilla_V1_JobSpec
    public internal(set) var state: JobState
    public let submittedAt: UInt64
    public internal(set) var updatedAt: UInt64
    /// Last reported step.
    public internal(set) var step: UInt64
    public internal(set) var totalSteps: UInt64
    /// Oldest first; at most one (the last) is live.
    public internal(set) var attempts: [Attempt]
    /// The newest verified checkpoint: where the next attempt resumes.
    public internal(set) var latestCheckpoint: Flotilla_V1_Checkpoint?
    /// The last error; set for FAILED.
    public internal(set) var error: String
    /// When the step last advanced (or an attempt started): the stall timer.
    public internal(set) var lastProgressAt: UInt64
    public let region: String

    public var isTerminal: Bool { state.isTerminal }
    public var currentAttempt: Attempt? { attempts.last }
    public var liveAttempt: Attempt? {
        guard let last = attempts.last, last.isLive else { return nil }
        return last
    }
    public var tenant: String { spec.tenant }
    /// The model of the latest attempt (the spec's until one runs).
    public var modelUsed: String { currentAttempt?.model ?? spec.model }
    /// Some attempt ran a fallback model.
    public var fallbackUsed: Bool { attempts.contains { $0.model != spec.model } }
    /// When the job last entered the queue: submission, or the end of its last attempt.
    public var queuedSince: UInt64 { currentAttempt.map { max($0.endedAt, submittedAt) } ?? submittedAt }
    /// Attempts that used up one of `spec.maxAttempts`.
    public var consumedAttempts: Int { attempts.count(where: \.countsAgainstMaxAttempts) }
}
