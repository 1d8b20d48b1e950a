import FlotillaCoordinatorState
import FlotillaProto

/// Backfilling a reserved worker: a job may start there only if it is
/// expected to end before the worker frees enough GPUs for the job it is
/// kept for. Durations come from observed progress (milliseconds per step of
/// running attempts); with no estimate, nothing is backfilled.
extension SchedulingRound {
    /// How long a step of this attempt has taken so far; nil before its first step.
    static func msPerStep(_ job: Job, _ attempt: Attempt, now: UInt64) -> UInt64? {
        guard attempt.state == .running, job.step > attempt.resumedFromStep else { return nil }
        return now.saturatingSubtract(attempt.startedAt) / (job.step - attempt.resumedFromStep)
    }

    /// When the live attempt is expected to end; nil: unknown.
    func expectedEnd(_ job: Job, _ attempt: Attempt) -> UInt64? {
        if attempt.state == .checkpointing, attempt.checkpointDeadline > 0 { return attempt.checkpointDeadline }
        guard job.totalSteps > 0,
              let perStep = Self.msPerStep(job, attempt, now: now) ?? msPerStepByModel[attempt.model] else { return nil }
        return now.saturatingAdd(perStep.multipliedReportingOverflow(by: job.totalSteps.saturatingSubtract(job.step))
            .partialValue)
    }

    /// When `count` GPUs of `type` are expected free on the worker.
    func estimatedFreeAt(_ position: Int, count: Int, type: String) -> UInt64? {
        var free = capacity.freeCount(position, type: type)
        if free >= count { return now }
        var ends: [(at: UInt64?, gpus: Int)] = runningAttempts(position).map { entry in
            (expectedEnd(entry.job, entry.attempt), gpuCount(entry.attempt, on: position, type: type))
        }
        ends.sort { ($0.at ?? .max) < ($1.at ?? .max) }
        for end in ends {
            guard let at = end.at else { return nil }
            free += end.gpus
            if free >= count { return at }
        }
        return nil
    }

    func endsBeforeReservation(_ job: Job, model: String, on position: Int) -> Bool {
        guard let freeAt = reservationEnds[position] ?? nil, job.spec.steps > 0,
              let perStep = msPerStepByModel[model] else { return false }
        let resume = job.latestCheckpoint?.step ?? 0
        let duration = perStep.multipliedReportingOverflow(by: job.spec.steps.saturatingSubtract(resume)).partialValue
        return now.saturatingAdd(duration) <= freeAt
    }
}
