import FlotillaCoordinatorState
@testable import FlotillaDrills
import FlotillaProto

/// A state built by applying commands, as the log would.
struct DrillCluster {
    var state = CoordinatorState()
    var now: UInt64 = 1_000_000

    @discardableResult
    mutating func apply(_ command: Flotilla_V1_Command) -> CommandOutcome {
        state.apply(LogEntryRecord(index: state.lastAppliedIndex + 1, term: 1, command: command))
    }

    mutating func worker(_ name: String, models: [String] = ["sdxl"], type: String = "A100", gpus: Int = 2,
                         zone: String = "a", allowsDrills: Bool = true) -> WorkerID {
        var registration = Flotilla_V1_RegisterWorkerRequest()
        registration.name = name
        registration.models = models
        registration.labels = ["zone": zone]
        registration.allowsDrills = allowsDrills
        registration.gpus = (0..<gpus).map { index in
            var gpu = Flotilla_V1_Gpu()
            gpu.index = UInt32(index)
            gpu.type = type
            gpu.memoryMib = 81_920
            return gpu
        }
        return apply(.registerWorker(registration, at: now)).workerID!
    }

    /// A job running on `worker`, with a checkpoint at `checkpoint` (0: none) and its step at `step`.
    mutating func runningJob(on worker: WorkerID, model: String = "sdxl", type: String = "", gpu: UInt32 = 0,
                             step: UInt64 = 0, checkpoint: UInt64 = 0) -> JobID {
        var spec = Flotilla_V1_JobSpec()
        spec.model = model
        spec.gpuType = type
        spec.gpuCount = 1
        spec.steps = 100
        let job = apply(.submitJob(spec, at: now)).jobID!
        apply(.assign(Placement(jobID: job, workerID: worker, gpuIndices: [gpu]), at: now))
        let token = state.job(job)!.currentAttempt!.token
        if checkpoint > 0 {
            var report = Flotilla_V1_CheckpointReport()
            report.token = token.proto
            report.checkpoint.jobID = job.rawValue
            report.checkpoint.attempt = token.attempt
            report.checkpoint.step = checkpoint
            report.checkpoint.uri = "file:///ckpt/\(job)/\(checkpoint)"
            report.checkpoint.sha256Hex = String(repeating: "ab", count: 32)
            report.checkpoint.sizeBytes = 1_024
            apply(.checkpoint(report, at: now))
        }
        var progress = Flotilla_V1_ProgressReport()
        progress.jobID = job.rawValue
        progress.token = token.proto
        progress.step = step
        progress.totalSteps = 100
        progress.state = .running
        apply(.progress(progress, at: now))
        return job
    }

    mutating func queuedJob(model: String = "sdxl", type: String = "") {
        var spec = Flotilla_V1_JobSpec()
        spec.model = model
        spec.gpuType = type
        spec.gpuCount = 1
        apply(.submitJob(spec, at: now))
    }

    func plan(_ kind: Flotilla_V1_DrillRequest.Kind, target: String = "", zone: String = "", force: Bool = false,
              delayMs: UInt64 = 0) throws(DrillPlanError) -> DrillPlan {
        var request = Flotilla_V1_DrillRequest()
        request.kind = kind
        request.target = target
        request.zone = zone
        request.force = force
        request.delayMs = delayMs
        return try DrillPlanner.plan(request, state: state, health: HealthPolicy())
    }
}

/// Observations built by hand: what the monitor would see at each moment.
enum Sight {
    static func target(_ name: String, _ state: WorkerState, heardAt: UInt64) -> DrillObservation.Target {
        DrillObservation.Target(name: name, state: state, lastHeardAt: heardAt)
    }

    static func job(_ state: JobState = .running, attempt: UInt32, attemptState: AttemptState? = .running,
                    worker: WorkerID?, workerName: String, step: UInt64, resumedFrom: UInt64 = 0, checkpoint: UInt64 = 0,
                    startedAt: UInt64 = 0, rejectedAt: UInt64? = nil) -> DrillObservation.JobSighting {
        DrillObservation.JobSighting(
            state: state, model: "sdxl", step: step, attempt: attempt, attemptState: attemptState,
            attemptStartedAt: startedAt, workerID: worker, workerName: workerName, resumedFromStep: resumedFrom,
            checkpointStep: checkpoint, checkpointRejectedAt: rejectedAt,
            checkpointRejection: rejectedAt == nil ? "" : "digest mismatch", error: state == .failed ? "exit code 1" : "")
    }
}

/// A plan made by hand, for monitor tests that need no state.
func handPlan(_ kind: Flotilla_V1_DrillRequest.Kind, targets: [WorkerID] = ["w-1"], names: [String] = ["gpu-1"],
              durationMs: UInt64 = 20_000, objectiveMs: UInt64 = 30_000, timeoutMs: UInt64 = 120_000,
              jobID: JobID? = nil) -> DrillPlan {
    DrillPlan(profile: DrillProfile.of(kind)!, targets: targets, targetNames: names, targetText: names.joined(),
              zone: "", jobID: jobID, checkpoint: nil, durationMs: durationMs, delayMs: 1_000, objectiveMs: objectiveMs,
              timeoutMs: timeoutMs, blastRadius: BlastRadius(), forced: false, heartbeatIntervalMs: 5_000)
}
