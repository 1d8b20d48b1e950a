import Foundation

/// The environment a process job runs with: the worker's own (less its
/// FLOTILLA_* settings), the model's `env`, then what describes the attempt.
///
/// | variable | value |
/// |---|---|
/// | FLOTILLA_JOB_ID, FLOTILLA_ATTEMPT, FLOTILLA_MODEL | the attempt |
/// | FLOTILLA_STEPS, FLOTILLA_CHECKPOINT_EVERY | total steps; checkpoint interval (0: none) |
/// | FLOTILLA_CHECKPOINT_DIR | where this attempt writes checkpoints (created) |
/// | FLOTILLA_RESUME_FROM, FLOTILLA_RESUME_STEP | the verified checkpoint to resume from ("" and 0 for a fresh start) |
/// | FLOTILLA_PARAMS | the job's params as a JSON object |
/// | FLOTILLA_PARAM_<KEY> | each param; the key upper-cased, other than A–Z 0–9 as `_` |
/// | FLOTILLA_GPUS, CUDA_VISIBLE_DEVICES | the assigned GPU indices, comma-separated |
enum JobEnvironment {
    static func make(for launch: AttemptLaunch, attemptDirectory: String, modelEnvironment: [String: String],
                     inherited: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var environment = inherited.filter { !$0.key.hasPrefix("FLOTILLA_") }
        environment.merge(modelEnvironment) { _, model in model }
        let gpus = launch.gpuIndices.map(String.init).joined(separator: ",")
        let attempt: [String: String] = [
            "FLOTILLA_JOB_ID": launch.jobID,
            "FLOTILLA_ATTEMPT": "\(launch.token.attempt)",
            "FLOTILLA_MODEL": launch.model,
            "FLOTILLA_STEPS": "\(launch.steps)",
            "FLOTILLA_CHECKPOINT_EVERY": "\(launch.checkpointEvery)",
            "FLOTILLA_CHECKPOINT_DIR": attemptDirectory,
            "FLOTILLA_RESUME_FROM": launch.resume?.path ?? "",
            "FLOTILLA_RESUME_STEP": "\(launch.resume?.step ?? 0)",
            "FLOTILLA_PARAMS": paramsJSON(launch.params),
            "FLOTILLA_GPUS": gpus,
            "CUDA_VISIBLE_DEVICES": gpus,
        ]
        environment.merge(attempt) { _, ours in ours }
        for (key, value) in launch.params {
            environment["FLOTILLA_PARAM_" + variableName(key)] = value
        }
        return environment
    }

    /// `step.ms` → `STEP_MS`.
    static func variableName(_ key: String) -> String {
        String(key.uppercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
    }

    /// Keys sorted so that the same params give the same text.
    static func paramsJSON(_ params: [String: String]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: params, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
