import FlotillaProto

/// A removed job as GetJob reports it.
public struct JobRemoval: Hashable, Sendable {
    public var jobID: JobID
    public var tenant: String
    public var removedAt: UInt64
}

extension CoordinatorState {
    /// Terminal jobs held (what `max_terminal_jobs` caps).
    public var terminalJobCount: Int { jobsByID.terminalByEnd.count }

    /// When the oldest-ended terminal job ended; nil with none.
    public var oldestTerminalEnd: UInt64? { jobsByID.terminalByEnd.first?.endedAt }

    /// Terminal jobs that ended at or after `time`, oldest-ended first: from
    /// the retention index, so a recent window costs what it holds.
    /// `latest`: at most that many, those that ended last.
    public func terminalJobs(endedSince time: UInt64, latest: Int = .max) -> [Job] {
        let ended = jobsByID.terminalByEnd
        let first = JobTable.lowerBound(JobTable.EndKey(endedAt: time, sequence: 0), in: ended)
        return ended[first...].suffix(latest).compactMap { jobsByID.job(sequence: $0.sequence) }
    }

    /// A job retention removed (within the `RemovedJobs` window).
    public func removal(of id: JobID) -> JobRemoval? {
        removedJobs[id].map { JobRemoval(jobID: $0.id, tenant: $0.tenant, removedAt: $0.removedAt) }
    }

    /// The jobs a `PruneJobs` with these values would remove, oldest-ended
    /// first: those ended before the cutoff, then the oldest beyond the cap.
    func prunable(olderThan cutoff: UInt64, maxTerminalJobs cap: UInt64) -> ArraySlice<JobTable.EndKey> {
        let ended = jobsByID.terminalByEnd
        let expired = JobTable.lowerBound(JobTable.EndKey(endedAt: cutoff, sequence: 0), in: ended)
        let excess = cap == 0 ? 0 : max(0, ended.count - Int(clamping: cap))
        return ended.prefix(max(expired, excess))
    }

    /// Deterministic: judged only by the command's values and the jobs' own
    /// end times. Each removed job frees its idempotency key, so the same key
    /// makes a new job afterwards.
    mutating func pruneJobs(_ command: Flotilla_V1_Command.PruneJobs, at: UInt64, _ outcome: inout CommandOutcome) {
        let doomed = prunable(olderThan: command.olderThanUnixMs, maxTerminalJobs: command.maxTerminalJobs)
        guard !doomed.isEmpty else { return }
        var ids: [JobID] = []
        var removals: [RemovedJobs.Removal] = []
        ids.reserveCapacity(doomed.count)
        removals.reserveCapacity(doomed.count)
        for key in doomed {
            guard let job = jobsByID.job(sequence: key.sequence) else { continue }
            ids.append(job.id)
            removals.append(.init(id: job.id, tenant: job.tenant, removedAt: at))
            let idempotencyKey = IdempotencyKey(tenant: job.tenant, key: job.spec.idempotencyKey)
            if !job.spec.idempotencyKey.isEmpty, idempotency[idempotencyKey] == job.id { idempotency[idempotencyKey] = nil }
        }
        jobsByID.remove(ids)
        removedJobs.record(removals)
        outcome.removedJobs = ids.count
    }
}

extension Flotilla_V1_Command {
    /// `olderThan`: remove terminal jobs that ended before it (unix ms);
    /// `maxTerminalJobs`: then keep at most this many (0: no cap).
    public static func pruneJobs(olderThan: UInt64, maxTerminalJobs: UInt64, at: UInt64) -> Self {
        var prune = PruneJobs()
        prune.olderThanUnixMs = olderThan
        prune.maxTerminalJobs = maxTerminalJobs
        var command = Self()
        command.atUnixMs = at
        command.kind = .pruneJobs(prune)
        return command
    }
}

extension CoordinatorState {
    /// Jobs removed by retention at or after `time` (a drill tells pruned jobs from lost ones).
    public func removedJobCount(since time: UInt64) -> Int {
        removedJobs.order.reversed().prefix { $0.removedAt >= time }.count
    }

    /// The newest job's submission sequence; 0 before the first.
    public var lastJobSequence: UInt64 { jobsByID.idBySequence.keys.max() ?? 0 }

    /// Jobs submitted at or before `sequence` that the state still holds.
    public func jobCount(throughSequence sequence: UInt64) -> Int {
        jobsByID.idBySequence.keys.count { $0 <= sequence }
    }

    /// Jobs with more than one live attempt: what "runs twice" means in the state itself.
    public var jobsWithTwoLiveAttempts: Int {
        jobsByID.values.count { job in job.attempts.count(where: \.isLive) > 1 }
    }
}
