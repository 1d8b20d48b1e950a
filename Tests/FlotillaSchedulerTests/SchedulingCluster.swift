import FlotillaCoordinatorState
import FlotillaProto
@testable import FlotillaScheduler

/// A coordinator state driven through its log, with a scheduler whose
/// decisions the tests inspect and then apply. Time is a plain counter.
struct SchedulingCluster {
    var state = CoordinatorState()
    var now: UInt64 = 10_000_000
    var scheduler: Scheduler

    init(_ configure: (inout SchedulerPolicy) -> Void = { _ in }) {
        var policy = SchedulerPolicy()
        configure(&policy)
        scheduler = Scheduler(policy: policy)
        apply(.termStarted(leader: "test", at: now))
    }

    @discardableResult
    mutating func apply(_ command: Flotilla_V1_Command) -> CommandOutcome {
        state.apply(LogEntryRecord(index: state.lastAppliedIndex + 1, term: 1, command: command))
    }

    mutating func advance(_ ms: UInt64) { now += ms }

    mutating func worker(_ name: String, gpus: Int = 4, type: String = "H100", models: [String] = ["mochi-1"]) -> WorkerID {
        var request = Flotilla_V1_RegisterWorkerRequest()
        request.name = name
        request.gpus = (0..<gpus).map { index in
            var gpu = Flotilla_V1_Gpu()
            gpu.index = UInt32(index)
            gpu.type = type
            return gpu
        }
        request.models = models
        return apply(.registerWorker(request, at: now)).workerID!
    }

    @discardableResult
    mutating func submit(model: String = "mochi-1", gpus: UInt32 = 1, tier: Flotilla_V1_Tier = .standard,
                         tenant: String = "acme", fallback: Bool = false, maxAttempts: UInt32 = 0,
                         steps: UInt64 = 100) -> CommandOutcome {
        var spec = Flotilla_V1_JobSpec()
        spec.model = model
        spec.gpuCount = gpus
        spec.tier = tier
        spec.tenant = tenant
        spec.fallbackAllowed = fallback
        spec.maxAttempts = maxAttempts
        spec.steps = steps
        return apply(.submitJob(spec, at: now))
    }

    mutating func job(model: String = "mochi-1", gpus: UInt32 = 1, tier: Flotilla_V1_Tier = .standard,
                      tenant: String = "acme", fallback: Bool = false, maxAttempts: UInt32 = 0, steps: UInt64 = 100) -> JobID {
        submit(model: model, gpus: gpus, tier: tier, tenant: tenant, fallback: fallback, maxAttempts: maxAttempts,
               steps: steps).jobID!
    }

    func decide() -> SchedulingDecision {
        scheduler.decide(state, on: state.workers.filter(\.acceptsWork), now: now)
    }

    /// Decides and applies the decisions; returns them.
    @discardableResult
    mutating func round() -> SchedulingDecision {
        let decision = decide()
        for command in scheduler.commands(for: decision, now: now) {
            let outcome = apply(command)
            precondition(outcome.rejection == nil, "scheduler proposed a refused command: \(outcome.rejection!)")
        }
        return decision
    }

    mutating func finish(_ job: JobID, _ result: Flotilla_V1_AttemptState, modelFault: Bool = false) {
        let attempt = state.job(job)!.currentAttempt!
        var report = Flotilla_V1_AttemptResult()
        report.jobID = job.rawValue
        report.token = attempt.token.proto
        report.state = result
        report.retryable = true
        report.modelFault = modelFault
        report.error = result == .failed ? "exit 1" : ""
        let outcome = apply(.finish(report, at: now))
        precondition(outcome.rejection == nil, "finish refused: \(outcome.rejection!)")
    }

    /// Marks the live attempt running (the worker's first report).
    mutating func started(_ job: JobID, step: UInt64 = 1) {
        var report = Flotilla_V1_ProgressReport()
        report.jobID = job.rawValue
        report.token = state.job(job)!.currentAttempt!.token.proto
        report.step = step
        report.state = .running
        apply(.progress(report, at: now))
    }

    func placement(of job: JobID, in decision: SchedulingDecision) -> Placement? {
        decision.placements.first { $0.jobID == job }
    }
}
