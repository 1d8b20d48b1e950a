import FlotillaCoordinatorState
import FlotillaProto

/// Sizes of every string, map and repeated field a worker may send, checked before
/// anything is proposed to the log (PROTOCOL.md §7.3). A request past a limit is answered
/// INVALID_ARGUMENT and leaves no trace in the log; before, an 8 MiB `region_hint` or a
/// million GPUs were stored and then broke `jobs list` or the planner for everyone.
enum FieldLimits {
    static let maxNameBytes = 128
    static let maxLabels = 64
    static let maxLabelKeyBytes = 63
    static let maxLabelValueBytes = 256
    static let maxGPUsPerWorker = 64
    static let maxModelsPerWorker = 256
    static let maxRunningPerWorker = 256
    static let maxSoftwareBytes = 256
    static let maxJobIDBytes = 128
    static let maxCheckpointURIBytes = 4_096
    /// The error text kept per attempt: the tail of stderr, not all of it.
    static let maxResultErrorBytes = 8_192

    static func labelProblem(_ labels: [String: String], field: String) -> String? {
        if labels.count > maxLabels { return "\(labels.count) \(field) is more than \(maxLabels)" }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if key.isEmpty || key.utf8.count > maxLabelKeyBytes || !JobSpecValidation.isParamKey(key) {
                return "\(field) key \"\(key.prefix(64))\" is not valid (letters, digits, . _ -, 1 to \(maxLabelKeyBytes) bytes)"
            }
            if value.utf8.count > maxLabelValueBytes { return "\(field) \(key) is longer than \(maxLabelValueBytes) bytes" }
        }
        return nil
    }

    static func registrationProblem(_ request: Flotilla_V1_RegisterWorkerRequest) -> String? {
        if request.gpus.count > maxGPUsPerWorker { return "\(request.gpus.count) GPUs is more than \(maxGPUsPerWorker) per worker" }
        var indices = Set<UInt32>()
        for gpu in request.gpus {
            if !indices.insert(gpu.index).inserted { return "GPU index \(gpu.index) is listed twice" }
            if gpu.type.utf8.count > maxNameBytes || gpu.uuid.utf8.count > maxNameBytes {
                return "GPU \(gpu.index): type and uuid are at most \(maxNameBytes) bytes"
            }
        }
        if request.models.count > maxModelsPerWorker { return "\(request.models.count) models is more than \(maxModelsPerWorker) per worker" }
        if let bad = request.models.first(where: { !JobSpecValidation.isName($0) }) {
            return "model \"\(bad.prefix(64))\" is not a valid name (letters, digits, . _ - /, at most \(maxNameBytes))"
        }
        if let problem = labelProblem(request.labels, field: "labels") { return problem }
        if request.region.utf8.count > maxNameBytes { return "region is longer than \(maxNameBytes) bytes" }
        if request.software.utf8.count > maxSoftwareBytes { return "software is longer than \(maxSoftwareBytes) bytes" }
        return runningProblem(request.running)
    }

    static func heartbeatProblem(_ request: Flotilla_V1_HeartbeatRequest) -> String? {
        runningProblem(request.running)
    }

    static func runningProblem(_ running: [Flotilla_V1_RunningAttempt]) -> String? {
        if running.count > maxRunningPerWorker { return "\(running.count) running attempts is more than \(maxRunningPerWorker)" }
        for attempt in running {
            if attempt.jobID.utf8.count > maxJobIDBytes { return "a running job id is longer than \(maxJobIDBytes) bytes" }
            if let problem = stepProblem(step: attempt.step, total: attempt.totalSteps) { return "job \(attempt.jobID): \(problem)" }
        }
        return nil
    }

    /// A worker may not report more steps than the job has. `jobTotal` is what the
    /// coordinator knows (the spec's steps, or a total reported earlier); 0: unknown.
    static func stepProblem(step: UInt64, total: UInt64, jobTotal: UInt64 = 0) -> String? {
        if total > 0, step > total { return "step \(step) is past the total of \(total) steps" }
        if total == 0, jobTotal > 0, step > jobTotal { return "step \(step) is past the job's \(jobTotal) steps" }
        return nil
    }

    static func progressProblem(_ report: Flotilla_V1_ProgressReport, jobTotal: UInt64) -> String? {
        switch report.state {
        case .unspecified, .running, .checkpointing: break
        default: return "a progress report's state is RUNNING or CHECKPOINTING, not \(report.state)"
        }
        return stepProblem(step: report.step, total: report.totalSteps, jobTotal: jobTotal)
    }

    static func checkpointProblem(_ report: Flotilla_V1_CheckpointReport, jobTotal: UInt64) -> String? {
        let checkpoint = report.checkpoint
        if checkpoint.attempt != report.token.attempt {
            return "checkpoint of attempt \(checkpoint.attempt) reported with the token of attempt \(report.token.attempt)"
        }
        if checkpoint.uri.isEmpty || checkpoint.sizeBytes == 0 || !CoordinatorState.isSHA256Hex(checkpoint.sha256Hex) {
            return "a checkpoint needs a uri, a size and a SHA-256 of 64 lower-case hex digits"
        }
        if checkpoint.uri.utf8.count > maxCheckpointURIBytes { return "checkpoint uri is longer than \(maxCheckpointURIBytes) bytes" }
        if !checkpoint.uri.hasPrefix("file:///") && !checkpoint.uri.hasPrefix("/") {
            return "checkpoint uri \(checkpoint.uri.prefix(128)) is not an absolute file:// path"
        }
        if checkpoint.uri.split(separator: "/").contains("..") { return "checkpoint uri may not contain .." }
        return stepProblem(step: checkpoint.step, total: 0, jobTotal: jobTotal)
    }

    static func resultProblem(_ result: Flotilla_V1_AttemptResult, jobTotal: UInt64) -> String? {
        switch result.state {
        case .succeeded, .failed, .preempted, .cancelled: break
        default: return "a result's state is SUCCEEDED, FAILED, PREEMPTED or CANCELLED, not \(result.state)"
        }
        if result.error.utf8.count > maxResultErrorBytes {
            return "the error is \(result.error.utf8.count) bytes; send at most its last \(maxResultErrorBytes)"
        }
        return stepProblem(step: result.step, total: 0, jobTotal: jobTotal)
    }
}
