import FlotillaProto

/// Worker reports: progress, checkpoints and results, each fenced by its
/// attempt's token (PROTOCOL.md §11.3, the ReportAck table).
extension CoordinatorState {
    /// Which attempt of a job a report's token speaks for.
    enum ReportTarget {
        /// The job's current attempt, live.
        case live(Job)
        /// The job's current attempt, already ended (by the worker or the coordinator).
        case ended(Job, Attempt)
        case rejected(Rejection)
    }

    func target(_ jobID: JobID, _ token: FencingToken) -> ReportTarget {
        guard let job = jobsByID[jobID] else {
            return .rejected(Rejection(.notFound, "no job \(jobID)", stopAttempt: true))
        }
        guard let current = job.currentAttempt, token <= current.token else {
            // This coordinator is behind the worker: do not make it stop work that may be current.
            return .rejected(Rejection(.failedPrecondition,
                "token \(token) is newer than any attempt of job \(jobID) known here"))
        }
        if token < current.token {
            return .rejected(Rejection(.failedPrecondition,
                "attempt \(token.attempt) of job \(jobID) is superseded by attempt \(current.number)", stopAttempt: true))
        }
        return current.isLive ? .live(job) : .ended(job, current)
    }

    func endedRejection(_ job: Job, _ attempt: Attempt) -> Rejection {
        // A worker back from a partition, whose job nobody has taken over yet,
        // keeps running it: it registers again and reclaims the attempt.
        if reclaimable(job, attempt, by: attempt.workerID) {
            return Rejection(.failedPrecondition,
                             "attempt \(attempt.number) of job \(job.id) was declared lost; register again to reclaim it")
        }
        return Rejection(.failedPrecondition,
                  "attempt \(attempt.number) of job \(job.id) has ended (\(attempt.state)); job is \(job.state)",
                  stopAttempt: true)
    }

    mutating func recordProgress(_ report: Flotilla_V1_ProgressReport, at: UInt64, _ outcome: inout CommandOutcome) {
        let jobID = JobID(report.jobID)
        outcome.jobID = jobID
        switch report.state {
        case .unspecified, .running, .checkpointing: break
        default: return outcome.reject(.invalidArgument, "a progress report's state is RUNNING or CHECKPOINTING")
        }
        switch target(jobID, FencingToken(report.token)) {
        case .rejected(let rejection): outcome.rejection = rejection
        case .ended(let job, let attempt): outcome.rejection = endedRejection(job, attempt)
        case .live(var job):
            let changed = advance(&job, step: report.step, totalSteps: report.totalSteps,
                                  state: Self.reported(report.state), at: at, &outcome)
            jobsByID[jobID] = job
            outcome.duplicate = !changed
        }
    }

    /// Applies what a worker says about a live attempt (a progress report, or
    /// an entry of a heartbeat or registration). Returns whether anything changed.
    mutating func advance(_ job: inout Job, step: UInt64, totalSteps: UInt64, state reported: AttemptState,
                          at: UInt64, _ outcome: inout CommandOutcome) -> Bool {
        var changed = false
        var attempt = job.attempts[job.attempts.count - 1]
        if attempt.state == .assigned, reported != .assigned {
            attempt.state = .running
            changed = true
            outcome.note(job.id, "attempt \(attempt.number) running on \(attempt.workerID)")
        }
        if reported == .checkpointing, attempt.state == .running {
            // The worker checkpoints on its own (it is draining): no deadline of ours.
            attempt.state = .checkpointing
            attempt.checkpointReason = attempt.checkpointReason ?? .drain
            changed = true
        }
        job.attempts[job.attempts.count - 1] = attempt
        if totalSteps > 0, totalSteps != job.totalSteps {
            job.totalSteps = totalSteps
            changed = true
        }
        if step > job.step {
            job.step = step
            job.lastProgressAt = at
            changed = true
            outcome.note(job.id, "step \(step)" + (job.totalSteps > 0 ? "/\(job.totalSteps)" : ""))
        }
        if changed { job.updatedAt = at }
        return changed
    }

    /// The live state a worker says an attempt is in; unset means running.
    static func reported(_ state: Flotilla_V1_AttemptState) -> AttemptState {
        switch state {
        case .assigned: .assigned
        case .checkpointing: .checkpointing
        default: .running
        }
    }

    /// A checkpoint is verified once accepted here with its digest and size;
    /// the newest accepted one is where the next attempt resumes.
    mutating func recordCheckpoint(_ report: Flotilla_V1_CheckpointReport, at: UInt64, _ outcome: inout CommandOutcome) {
        var checkpoint = report.checkpoint
        let jobID = JobID(checkpoint.jobID)
        outcome.jobID = jobID
        guard checkpoint.attempt == report.token.attempt else {
            return outcome.reject(.invalidArgument,
                "checkpoint of attempt \(checkpoint.attempt) reported with the token of attempt \(report.token.attempt)")
        }
        guard !checkpoint.uri.isEmpty, checkpoint.sizeBytes > 0, Self.isSHA256Hex(checkpoint.sha256Hex) else {
            return outcome.reject(.invalidArgument, "a checkpoint needs a uri, a size and a SHA-256 of 64 lower-case hex digits")
        }
        switch target(jobID, FencingToken(report.token)) {
        case .rejected(let rejection): outcome.rejection = rejection
        case .ended(let job, let attempt): outcome.rejection = endedRejection(job, attempt)
        case .live(var job):
            if let latest = job.latestCheckpoint, latest.attempt == checkpoint.attempt, checkpoint.step <= latest.step {
                outcome.duplicate = true
                return
            }
            if checkpoint.createdUnixMs == 0 { checkpoint.createdUnixMs = at }
            job.latestCheckpoint = checkpoint
            if checkpoint.step > job.step {
                job.step = checkpoint.step
                job.lastProgressAt = at
            }
            job.updatedAt = at
            jobsByID[jobID] = job
            outcome.note(jobID, "checkpoint at step \(checkpoint.step)")
        }
    }

    public static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    mutating func finishAttempt(_ command: Flotilla_V1_Command.FinishAttempt, at: UInt64, _ outcome: inout CommandOutcome) {
        let result = command.result
        let jobID = JobID(result.jobID)
        outcome.jobID = jobID
        let ended: AttemptState
        switch result.state {
        case .succeeded: ended = .succeeded
        case .failed: ended = .failed
        case .preempted: ended = .preempted
        case .cancelled: ended = .cancelled
        default: return outcome.reject(.invalidArgument, "a result's state is SUCCEEDED, FAILED, PREEMPTED or CANCELLED")
        }
        switch target(jobID, FencingToken(result.token)) {
        case .rejected(let rejection): outcome.rejection = rejection
        case .ended(let job, let attempt):
            // A resent result, or the worker confirming the stop we asked for.
            if attempt.state == ended { outcome.duplicate = true } else { outcome.rejection = endedRejection(job, attempt) }
        case .live(var job):
            if result.step > job.step { job.step = result.step }
            let attempt = job.attempts[job.attempts.count - 1]
            let error = result.error.isEmpty ? "attempt \(attempt.number) ended \(ended) (exit code \(result.exitCode))" : result.error
            switch ended {
            case .succeeded:
                endLiveAttempt(of: &job, as: .succeeded, at: at, error: "", countsAgainstMaxAttempts: false)
                job.state = .succeeded
                job.error = ""
                jobsByID[jobID] = job
                outcome.note(jobID, "succeeded", stateChanged: true)
            case .failed:
                // An unusable checkpoint is not the job's fault: forget it and start over.
                endLiveAttempt(of: &job, as: .failed, at: at, error: error,
                               countsAgainstMaxAttempts: !command.checkpointUnusable,
                               modelFault: result.modelFault && !command.checkpointUnusable)
                var reason = error
                if command.checkpointUnusable {
                    // The user hears it in the job's events: the work since step 0 is redone.
                    reason = "the checkpoint at step \(attempt.resumedFromStep) failed verification (\(error)); restarting from step 0"
                    job.latestCheckpoint = nil
                }
                requeueOrFail(&job, retryable: result.retryable || command.checkpointUnusable,
                              error: reason, at: at, &outcome)
            default:
                // Stopped by request or by its worker (drain): resumes elsewhere.
                // A stall still uses up an attempt, so a job that always hangs ends.
                let stalled = attempt.checkpointReason == .stall
                endLiveAttempt(of: &job, as: ended, at: at,
                               error: stalled ? "no progress within the stall timeout" : error,
                               countsAgainstMaxAttempts: stalled)
                requeueOrFail(&job, retryable: true, error: job.attempts[job.attempts.count - 1].error, at: at, &outcome)
            }
        }
    }
}
