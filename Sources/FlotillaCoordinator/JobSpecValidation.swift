import FlotillaCoordinatorState
import FlotillaProto

/// Shape checks on a submitted JobSpec that need no state: the first line of
/// defence against bad input, before anything reaches the log. The state
/// machine's own `checkSubmission` then checks models, quotas and keys.
enum JobSpecValidation {
    static let maxParams = 64
    static let maxParamValueBytes = 4_096
    static let maxSteps: UInt64 = 100_000_000
    static let maxAttempts: UInt32 = 20

    /// The first problem found, as the requester will read it.
    static func problem(in spec: Flotilla_V1_JobSpec) -> String? {
        if spec.model.isEmpty { return "model is required" }
        if !isName(spec.model) { return "model \"\(spec.model)\" is not a valid name (letters, digits, . _ - /, at most 128)" }
        if spec.gpuCount == 0 { return "gpu_count must be at least 1" }
        if spec.gpuCount > CoordinatorState.maxGPUsPerJob {
            return "gpu_count \(spec.gpuCount) is more than \(CoordinatorState.maxGPUsPerJob): a job's GPUs are all on one worker"
        }
        if !spec.tenant.isEmpty, !isName(spec.tenant) { return "tenant \"\(spec.tenant)\" is not a valid name" }
        if spec.steps > maxSteps { return "steps \(spec.steps) is more than \(maxSteps)" }
        if spec.maxAttempts > maxAttempts { return "max_attempts \(spec.maxAttempts) is more than \(maxAttempts)" }
        if spec.params.count > maxParams { return "\(spec.params.count) params is more than \(maxParams)" }
        for (key, value) in spec.params.sorted(by: { $0.key < $1.key }) {
            if !isParamKey(key) { return "param key \"\(key)\" is not valid (letters, digits, . _ -, 1 to 64 characters)" }
            if value.utf8.count > maxParamValueBytes { return "param \(key) is longer than \(maxParamValueBytes) bytes" }
            if value.utf8.contains(0) { return "param \(key) contains a NUL byte" }
        }
        if spec.idempotencyKey.utf8.count > 256 { return "idempotency_key is longer than 256 bytes" }
        if !spec.gpuType.isEmpty, !isName(spec.gpuType) { return "gpu_type \"\(spec.gpuType.prefix(64))\" is not a valid name" }
        if spec.regionHint.utf8.count > FieldLimits.maxNameBytes || (!spec.regionHint.isEmpty && !isName(spec.regionHint)) {
            return "region_hint is not a valid region name (letters, digits, . _ -, at most \(FieldLimits.maxNameBytes) bytes)"
        }
        if let problem = FieldLimits.labelProblem(spec.labels, field: "labels") { return problem }
        return nil
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128 && text.utf8.allSatisfy { byte in
            isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
        }
    }

    static func isParamKey(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { byte in
            isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// A job no registered worker could ever hold is refused rather than
    /// queued forever: no worker serving the model has that many GPUs (of the type).
    static func capacityProblem(_ spec: Flotilla_V1_JobSpec, workers: [Worker]) -> String? {
        let serving = workers.filter { $0.serves(model: spec.model) && $0.health != .lost }
        guard !serving.isEmpty else { return nil }  // the state machine names an unknown model
        let largest = serving.map { worker in
            worker.gpus.filter { spec.gpuType.isEmpty || $0.type == spec.gpuType }.count
        }.max() ?? 0
        guard largest < Int(spec.gpuCount) else { return nil }
        let type = spec.gpuType.isEmpty ? "" : " of type \(spec.gpuType)"
        return "no worker serving \(spec.model) has \(spec.gpuCount) GPUs\(type) (the largest has \(largest)); a job's GPUs must all be on one worker"
    }
}
