import FlotillaProto

/// An attempt this worker holds: from its Assignment until the coordinator
/// acknowledged its result (or told the worker to drop it).
struct LiveAttempt {
    enum Phase: Sendable, Equatable {
        /// Accepted; its resume checkpoint is being verified.
        case assigned
        case running
        /// Asked to checkpoint and stop.
        case checkpointing
        /// Ended; the result waits in the outbox for its ReportAck.
        case reporting(Flotilla_V1_AttemptState)
    }

    let jobID: String
    let token: Flotilla_V1_FencingToken
    let model: String
    let gpuIndices: [UInt32]
    var phase = Phase.assigned
    /// The last step completed, and the total (0: unknown).
    var step: UInt64
    var totalSteps: UInt64
    var execution: (any AttemptExecution)?
    /// A stop directive arrived: report CANCELLED when it ends.
    var cancelRequested = false
    /// Progress already handed to the courier, and whether a delayed send is due.
    var reportedStep: UInt64?
    var lastProgressAt: ContinuousClock.Instant?
    var progressFlushScheduled = false

    init(assignment: Flotilla_V1_Assignment, startStep: UInt64, totalSteps: UInt64) {
        jobID = assignment.jobID
        token = assignment.token
        model = assignment.model
        gpuIndices = assignment.gpuIndices
        step = startStep
        self.totalSteps = totalSteps
    }

    /// How the worker describes it in RegisterWorkerRequest and HeartbeatRequest.
    var running: Flotilla_V1_RunningAttempt {
        var running = Flotilla_V1_RunningAttempt()
        running.jobID = jobID
        running.token = token
        running.step = step
        running.totalSteps = totalSteps
        switch phase {
        case .assigned: running.state = .assigned
        case .running: running.state = .running
        case .checkpointing: running.state = .checkpointing
        case .reporting(let state): running.state = state == .preempted ? .checkpointing : .running
        }
        running.ended = isEnded
        return running
    }

    var isEnded: Bool {
        if case .reporting = phase { return true }
        return false
    }
}
