import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler

/// A log being written: applies commands as entries with the next index and
/// the current term, and keeps them for replay.
struct Cluster {
    var state = CoordinatorState()
    var entries: [LogEntryRecord] = []
    var term: UInt64 = 1
    var now: UInt64 = 1_000_000

    @discardableResult
    mutating func apply(_ command: Flotilla_V1_Command) -> CommandOutcome {
        let entry = LogEntryRecord(index: state.lastAppliedIndex + 1, term: term, command: command)
        entries.append(entry)
        return state.apply(entry)
    }

    mutating func advance(_ ms: UInt64) { now += ms }

    @discardableResult
    mutating func submit(_ spec: Flotilla_V1_JobSpec) -> CommandOutcome { apply(.submitJob(spec, at: now)) }

    @discardableResult
    mutating func register(_ registration: Flotilla_V1_RegisterWorkerRequest) -> CommandOutcome {
        apply(.registerWorker(registration, at: now))
    }

    /// Registers a worker and returns its id.
    mutating func worker(_ name: String, gpus: Int = 1, type: String = "H100", models: [String] = ["mochi-1"],
                         labels: [String: String] = [:]) -> WorkerID {
        register(registration(name, gpus: gpus, type: type, models: models, labels: labels)).workerID!
    }

    /// Submits a job and returns its id.
    mutating func job(_ spec: Flotilla_V1_JobSpec = jobSpec()) -> JobID { submit(spec).jobID! }

    @discardableResult
    mutating func assign(_ job: JobID, to worker: WorkerID, gpus: [UInt32] = [0]) -> CommandOutcome {
        apply(.assign(Placement(jobID: job, workerID: worker, gpuIndices: gpus), at: now))
    }

    func token(_ job: JobID) -> FencingToken { state.job(job)!.currentAttempt!.token }

    @discardableResult
    mutating func progress(_ job: JobID, token: FencingToken? = nil, step: UInt64, total: UInt64 = 50) -> CommandOutcome {
        var report = Flotilla_V1_ProgressReport()
        report.jobID = job.rawValue
        report.token = (token ?? self.token(job)).proto
        report.step = step
        report.totalSteps = total
        report.state = .running
        return apply(.progress(report, at: now))
    }

    @discardableResult
    mutating func checkpoint(_ job: JobID, token: FencingToken? = nil, step: UInt64) -> CommandOutcome {
        let token = token ?? self.token(job)
        var report = Flotilla_V1_CheckpointReport()
        report.token = token.proto
        report.checkpoint.jobID = job.rawValue
        report.checkpoint.attempt = token.attempt
        report.checkpoint.step = step
        report.checkpoint.uri = "file:///ckpt/\(job)/\(step)"
        report.checkpoint.sha256Hex = String(repeating: "ab", count: 32)
        report.checkpoint.sizeBytes = 1024
        return apply(.checkpoint(report, at: now))
    }

    @discardableResult
    mutating func finish(_ job: JobID, token: FencingToken? = nil, _ state: Flotilla_V1_AttemptState,
                         retryable: Bool = true, error: String = "", checkpointUnusable: Bool = false,
                         modelFault: Bool = false) -> CommandOutcome {
        var result = Flotilla_V1_AttemptResult()
        result.jobID = job.rawValue
        result.token = (token ?? self.token(job)).proto
        result.state = state
        result.retryable = retryable
        result.error = error
        result.modelFault = modelFault
        return apply(.finish(result, checkpointUnusable: checkpointUnusable, at: now))
    }

    @discardableResult
    mutating func heartbeat(_ worker: WorkerID, running: [Flotilla_V1_RunningAttempt] = [],
                            draining: Bool = false) -> CommandOutcome {
        var heartbeat = Flotilla_V1_HeartbeatRequest()
        heartbeat.workerID = worker.rawValue
        heartbeat.running = running
        heartbeat.draining = draining
        return apply(.heartbeat(heartbeat, at: now))
    }

    @discardableResult
    mutating func markLost(_ worker: WorkerID) -> CommandOutcome {
        apply(.lost(worker, lastHeartbeatAt: state.worker(worker)!.lastHeartbeatAt, reason: "test", at: now))
    }

    func running(_ job: JobID, step: UInt64 = 0) -> Flotilla_V1_RunningAttempt {
        var running = Flotilla_V1_RunningAttempt()
        running.jobID = job.rawValue
        running.token = token(job).proto
        running.step = step
        running.state = .running
        return running
    }

    /// Applies what the planner proposes now; returns the commands' outcomes.
    @discardableResult
    mutating func plan(_ planner: CoordinatorPlanner = CoordinatorPlanner(placement: Scheduler()), leaderSince: UInt64 = 0) -> [CommandOutcome] {
        planner.plan(state, now: now, leaderSince: leaderSince).map { apply($0) }
    }
}

func jobSpec(model: String = "mochi-1", gpus: UInt32 = 1, type: String = "", tenant: String = "acme",
             key: String = "", maxAttempts: UInt32 = 0, steps: UInt64 = 50,
             labels: [String: String] = [:]) -> Flotilla_V1_JobSpec {
    var spec = Flotilla_V1_JobSpec()
    spec.model = model
    spec.gpuCount = gpus
    spec.gpuType = type
    spec.tenant = tenant
    spec.idempotencyKey = key
    spec.maxAttempts = maxAttempts
    spec.steps = steps
    spec.labels = labels
    return spec
}

func registration(_ name: String, gpus: Int = 1, type: String = "H100", models: [String] = ["mochi-1"],
                  labels: [String: String] = [:]) -> Flotilla_V1_RegisterWorkerRequest {
    var request = Flotilla_V1_RegisterWorkerRequest()
    request.name = name
    request.gpus = (0..<gpus).map { index in
        var gpu = Flotilla_V1_Gpu()
        gpu.index = UInt32(index)
        gpu.type = type
        gpu.memoryMib = 81_920
        return gpu
    }
    request.models = models
    request.labels = labels
    return request
}
