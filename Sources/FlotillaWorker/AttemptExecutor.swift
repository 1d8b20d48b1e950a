import FlotillaProto

/// Runs attempts of one model. `start` returns at once with the running
/// attempt; everything after that arrives as its events.
public protocol AttemptExecutor: Sendable {
    func start(_ launch: AttemptLaunch) throws -> any AttemptExecution
}

/// One attempt in progress on an executor.
public protocol AttemptExecution: AnyObject, Sendable {
    /// Progress, checkpoints, then exactly one `.finished`, after which the stream ends.
    var events: AsyncStream<ExecutionEvent> { get }
    /// Stops the attempt: a clean stop within `grace`, then a kill (`.zero`: kill now).
    /// It finishes `.cancelled`.
    func cancel(grace: Duration)
    /// Asks the attempt to write a checkpoint and stop within `grace`. It reports the
    /// checkpoint (if it wrote one) and finishes `.stoppedForCheckpoint`.
    func checkpointAndStop(grace: Duration)
    /// The worker still holds its claim: a supervised process job lives on only while
    /// renewals keep coming (see `JobSupervisor`).
    func renewLease()
}

extension AttemptExecution {
    /// In-process executions stop with the worker itself.
    public func renewLease() {}
}

public enum ExecutionEvent: Sendable, Hashable {
    /// `step` of `total` steps done (total 0: unknown).
    case progress(step: UInt64, total: UInt64)
    /// A checkpoint after `step` lies at `path` (absolute).
    case checkpoint(step: UInt64, path: String)
    case finished(ExecutionOutcome)
}

public enum ExecutionOutcome: Sendable, Hashable {
    case succeeded
    /// `exitCode`: the exit status or the negated signal; `errorTail`: the last
    /// lines of stderr or the executor's error; `modelFault`: counts against the
    /// model's circuit breaker.
    case failed(exitCode: Int32, errorTail: String, modelFault: Bool)
    case stoppedForCheckpoint
    case cancelled
}

/// What an executor needs to run one attempt, resolved from the Assignment and
/// the model's configuration.
public struct AttemptLaunch: Sendable, Hashable {
    public var jobID: String
    public var token: Flotilla_V1_FencingToken
    public var model: String
    /// Total steps (the assignment's, else the model's default).
    public var steps: UInt64
    /// Checkpoint every so many steps (0: never on its own).
    public var checkpointEvery: UInt64
    public var gpuIndices: [UInt32]
    public var params: [String: String]
    /// A verified checkpoint to resume from.
    public var resume: ResumePoint?
    /// The worker's checkpoint root; each attempt writes below `<root>/<job>/`.
    public var checkpointDirectory: String
    /// How long a supervised job may outlive the worker's last lease renewal (nil: unsupervised).
    public var leaseTimeout: Duration?

    public struct ResumePoint: Sendable, Hashable {
        public var path: String
        public var step: UInt64
        public init(path: String, step: UInt64) {
            self.path = path
            self.step = step
        }
    }

    public init(jobID: String, token: Flotilla_V1_FencingToken, model: String, steps: UInt64, checkpointEvery: UInt64,
                gpuIndices: [UInt32] = [], params: [String: String] = [:], resume: ResumePoint? = nil,
                checkpointDirectory: String) {
        self.jobID = jobID
        self.token = token
        self.model = model
        self.steps = steps
        self.checkpointEvery = checkpointEvery
        self.gpuIndices = gpuIndices
        self.params = params
        self.resume = resume
        self.checkpointDirectory = checkpointDirectory
    }

    /// The assignment's values where set, the model's defaults otherwise.
    public init(assignment: Flotilla_V1_Assignment, model: ModelConfiguration, resume: ResumePoint?, checkpointDirectory: String) {
        self.init(
            jobID: assignment.jobID, token: assignment.token, model: assignment.model,
            steps: assignment.steps > 0 ? assignment.steps : model.defaultSteps,
            checkpointEvery: assignment.checkpointEvery > 0 ? UInt64(assignment.checkpointEvery) : model.checkpointEvery,
            gpuIndices: assignment.gpuIndices, params: assignment.params, resume: resume,
            checkpointDirectory: checkpointDirectory)
    }

    /// The step the attempt starts after.
    public var startStep: UInt64 { resume?.step ?? 0 }

    /// `<root>/<job>`: the job's checkpoints, whichever attempt or worker wrote them.
    public var jobCheckpointDirectory: String {
        checkpointDirectory + "/" + Self.pathComponent(jobID)
    }

    /// A job id as one safe path component (ids are opaque: never let one climb out).
    static func pathComponent(_ text: String) -> String {
        let safe = String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return safe.isEmpty || safe.allSatisfy({ $0 == "." }) ? "_" + safe : safe
    }
}
