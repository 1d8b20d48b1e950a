import FlotillaProto

/// The human form of `jobs get`: the record as `key: value` lines, then the attempts.
struct JobDetail {
    let job: Flotilla_V1_Job
    let time: TimeText

    init(_ job: Flotilla_V1_Job, time: TimeText = TimeText()) {
        self.job = job
        self.time = time
    }

    var text: String {
        let spec = job.spec
        var fields = Fields()
        fields.append("ID", job.id)
        fields.append("State", job.state.name)
        fields.append("Model", job.modelText)
        fields.append("Tier", spec.tier.name)
        fields.append("Tenant", spec.tenant.isEmpty ? "default" : spec.tenant)
        fields.append("GPUs", "\(spec.gpuCount)" + (spec.gpuType.isEmpty ? " (any type)" : " \(spec.gpuType)"))
        fields.append("Progress", "step " + JobProgress.text(step: job.step, total: job.totalSteps))
        fields.append("Max attempts", spec.maxAttempts == 0 ? "cluster default" : "\(spec.maxAttempts)")
        fields.append("Fallback", spec.fallbackAllowed ? "allowed" + (job.fallbackUsed ? ", used" : "") : "not allowed")
        if !spec.idempotencyKey.isEmpty { fields.append("Idempotency key", spec.idempotencyKey) }
        if !job.region.isEmpty { fields.append("Region", job.region) }
        if !spec.params.isEmpty { fields.append("Params", Self.pairs(spec.params)) }
        if !spec.labels.isEmpty { fields.append("Labels", Self.pairs(spec.labels)) }
        fields.append("Submitted", "\(TimeText.timestamp(job.submittedUnixMs)) (\(time.age(job.submittedUnixMs)))")
        fields.append("Updated", "\(TimeText.timestamp(job.updatedUnixMs)) (\(time.age(job.updatedUnixMs)))")
        if job.hasLatestCheckpoint {
            let checkpoint = job.latestCheckpoint
            fields.append(
                "Latest checkpoint",
                "step \(checkpoint.step) (attempt \(checkpoint.attempt), \(time.age(checkpoint.createdUnixMs))) \(checkpoint.uri)")
        } else {
            fields.append("Latest checkpoint", "none")
        }
        if !job.error.isEmpty { fields.append("Error", job.error) }
        guard !job.attempts.isEmpty else { return fields.text + "\n\nAttempts: none yet" }
        var table = Table("ATTEMPT", "WORKER", "STATE", "RESUMED-FROM", "STARTED", "DURATION", "ERROR")
        for attempt in job.attempts {
            table.append([
                "\(attempt.number)", attempt.workerID.isEmpty ? "-" : attempt.workerID, attempt.state.name,
                attempt.resumedFromStep > 0 ? "step \(attempt.resumedFromStep)" : "start",
                time.age(attempt.startedUnixMs), time.duration(from: attempt.startedUnixMs, to: attempt.endedUnixMs),
                attempt.error.isEmpty ? "-" : attempt.error,
            ])
        }
        return fields.text + "\n\nAttempts:\n" + table.text
    }

    /// "a=1, b=2", sorted so the output is stable.
    private static func pairs(_ map: [String: String]) -> String {
        map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}
