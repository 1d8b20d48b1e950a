import FlotillaProto

/// Why a command changed nothing. The code is what the requester is told.
public struct Rejection: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: Flotilla_V1_ErrorCode
    public var message: String
    /// For worker reports: the attempt is superseded, ended or unknown, and
    /// the worker must stop it (ReportAck.stop_attempt).
    public var stopAttempt: Bool
    /// BREAKER_OPEN, RESOURCE_EXHAUSTED: when trying again may succeed; 0: unknown.
    public var retryAfterMs: UInt64

    public init(_ code: Flotilla_V1_ErrorCode, _ message: String, stopAttempt: Bool = false, retryAfterMs: UInt64 = 0) {
        self.code = code
        self.message = message
        self.stopAttempt = stopAttempt
        self.retryAfterMs = retryAfterMs
    }

    public var error: Flotilla_V1_Error {
        var error = Flotilla_V1_Error()
        error.code = code
        error.message = message
        error.retryAfterMs = retryAfterMs
        return error
    }

    public var description: String { "\(code): \(message)" }
}

/// A directive for one worker, for the leader to send on its directive stream.
public struct Directive: Hashable, Sendable {
    public var workerID: WorkerID
    public var directive: Flotilla_V1_WorkerDirective

    public init(workerID: WorkerID, directive: Flotilla_V1_WorkerDirective) {
        self.workerID = workerID
        self.directive = directive
    }
}

/// Something a job watcher should hear about; `CoordinatorState.jobEvent`
/// turns it into a `JobEvent` with the record as it now stands.
public struct JobChange: Hashable, Sendable {
    public var jobID: JobID
    /// The job's state changed (the event then carries the whole record).
    public var stateChanged: Bool
    public var message: String

    public init(jobID: JobID, stateChanged: Bool, message: String) {
        self.jobID = jobID
        self.stateChanged = stateChanged
        self.message = message
    }
}

/// What applying one entry did: the answer for whoever proposed it and the
/// work the leader's shell carries out (directives, watch events).
public struct CommandOutcome: Hashable, Sendable {
    public var index: UInt64
    /// Set when the command changed nothing because it was invalid or stale.
    public var rejection: Rejection?
    /// A repeat that changed nothing and is answered as accepted: a submission
    /// with a known idempotency key, a report already accepted.
    public var duplicate: Bool = false
    /// The job concerned (for a submission: the one created or found).
    public var jobID: JobID?
    /// The worker concerned (for a registration: its id).
    public var workerID: WorkerID?
    /// For RegisterWorkerResponse / HeartbeatResponse: attempts the worker
    /// listed that are superseded, ended or unknown.
    public var stopAttempts: [Flotilla_V1_FencingTokenForJob] = []
    public var directives: [Directive] = []
    public var jobChanges: [JobChange] = []
    /// For PruneJobs: how many jobs retention removed.
    public var removedJobs = 0
    /// The id a `DrillStarted` gave its drill.
    public var drillID: String?

    public init(index: UInt64) { self.index = index }

    public var isAccepted: Bool { rejection == nil }

    /// The answer to a ProgressReport, CheckpointReport or AttemptResult.
    public var reportAck: Flotilla_V1_ReportAck {
        var ack = Flotilla_V1_ReportAck()
        ack.accepted = rejection == nil
        ack.stopAttempt = rejection?.stopAttempt ?? false
        ack.message = rejection?.message ?? ""
        return ack
    }

    mutating func reject(_ code: Flotilla_V1_ErrorCode, _ message: String, stopAttempt: Bool = false) {
        rejection = Rejection(code, message, stopAttempt: stopAttempt)
    }

    mutating func note(_ jobID: JobID, _ message: String, stateChanged: Bool = false) {
        jobChanges.append(JobChange(jobID: jobID, stateChanged: stateChanged, message: message))
    }

    mutating func send(_ workerID: WorkerID, _ directive: Flotilla_V1_WorkerDirective) {
        directives.append(Directive(workerID: workerID, directive: directive))
    }
}
