import FlotillaProto

/// Placing attempts, and the coordinator's side of ending them.
extension CoordinatorState {
    /// Applying re-checks everything placement relied on: between proposal
    /// and apply the job may have been cancelled or the worker lost.
    mutating func assignAttempt(_ command: Flotilla_V1_Command.AssignAttempt, term: UInt64, at: UInt64,
                                _ outcome: inout CommandOutcome) {
        let jobID = JobID(command.jobID)
        let workerID = WorkerID(command.workerID)
        outcome.jobID = jobID
        outcome.workerID = workerID
        guard var job = jobsByID[jobID] else { return outcome.reject(.notFound, "no job \(jobID)") }
        guard job.state == .queued else {
            return outcome.reject(.failedPrecondition, "job \(jobID) is \(job.state), not queued")
        }
        guard var worker = workersByID[workerID] else { return outcome.reject(.notFound, "no worker \(workerID)") }
        let model = command.model.isEmpty ? job.spec.model : command.model
        guard model == job.spec.model
            || (job.spec.fallbackAllowed && breakerPolicy.fallbackChain(for: job.spec.model).contains(model)) else {
            return outcome.reject(.failedPrecondition, "model \(model) is not in job \(jobID)'s fallback chain")
        }
        if let refusal = placementRefusal(of: job, model: model, on: worker, gpuIndices: command.gpuIndices) {
            return outcome.reject(.failedPrecondition, refusal)
        }
        var probe = false
        switch breaker(model).admission(at: at, policy: breakerPolicy) {
        case .refused:
            return outcome.reject(.breakerOpen, "model \(model)'s circuit breaker admits no more work now")
        case .probe:
            let policy = breakerPolicy
            updateBreaker(model) { probe = $0.admitProbe(at: at, policy: policy) }
        case .allowed:
            break
        }
        if command.shareTier != .unspecified {
            fairShare.record(tier: command.shareTier, start: command.shareStart, finish: command.shareFinish)
        }

        // A checkpoint is only of use to the model that wrote it.
        let resume = job.latestCheckpoint.flatMap { checkpoint in
            job.attempts.first { $0.number == checkpoint.attempt }?.model == model ? checkpoint : nil
        }
        let number = UInt32(job.attempts.count + 1)
        let token = FencingToken(term: term, attempt: number)
        let attempt = Attempt(
            number: number, token: token, workerID: workerID, model: model, probe: probe, gpuIndices: command.gpuIndices,
            state: .assigned, startedAt: at, endedAt: 0, resumeFrom: resume, error: "",
            checkpointReason: nil, checkpointDeadline: 0, countsAgainstMaxAttempts: false)
        queue.remove(job)
        job.attempts.append(attempt)
        job.state = .running
        job.step = attempt.resumedFromStep
        job.lastProgressAt = at
        job.updatedAt = at
        for index in command.gpuIndices { worker.allocations[index] = jobID }
        jobsByID[jobID] = job
        workersByID[workerID] = worker

        outcome.send(workerID, .assigning(assignment(job, attempt)))
        let start = attempt.resumeFrom.map { "resuming from checkpoint step \($0.step)" } ?? "starting at step 0"
        let runs = model == job.spec.model ? "" : " running fallback model \(model)"
        outcome.note(jobID, "attempt \(number) assigned to \(worker.name) (\(workerID))\(runs), \(start)",
                     stateChanged: true)
    }

    /// Why `job` cannot run on these GPUs of `worker`, or nil if it can.
    func placementRefusal(of job: Job, model: String, on worker: Worker, gpuIndices: [UInt32]) -> String? {
        guard worker.acceptsWork else { return "worker \(worker.id) is \(worker.state), not ready" }
        guard worker.serves(model: model) else { return "worker \(worker.id) does not serve \(model)" }
        guard worker.satisfies(labels: job.spec.labels) else { return "worker \(worker.id) lacks the job's labels" }
        guard gpuIndices.count == Int(job.spec.gpuCount), Set(gpuIndices).count == gpuIndices.count else {
            return "job \(job.id) needs \(job.spec.gpuCount) distinct GPUs, got \(gpuIndices)"
        }
        let free = Set(worker.freeGPUs(ofType: job.spec.gpuType).map(\.index))
        guard gpuIndices.allSatisfy(free.contains) else {
            return "GPUs \(gpuIndices) of worker \(worker.id) are not all free \(job.spec.gpuType.isEmpty ? "" : job.spec.gpuType + " ")GPUs"
        }
        return nil
    }

    func assignment(_ job: Job, _ attempt: Attempt) -> Flotilla_V1_Assignment {
        var assignment = Flotilla_V1_Assignment()
        assignment.jobID = job.id.rawValue
        assignment.token = attempt.token.proto
        assignment.model = attempt.model
        assignment.gpuCount = job.spec.gpuCount
        assignment.gpuIndices = attempt.gpuIndices
        assignment.params = job.spec.params
        assignment.steps = job.spec.steps
        if let checkpoint = attempt.resumeFrom { assignment.resumeFrom = checkpoint }
        return assignment
    }

    mutating func requestCheckpoint(_ command: Flotilla_V1_Command.RequestCheckpoint, at: UInt64,
                                    _ outcome: inout CommandOutcome) {
        let jobID = JobID(command.jobID)
        outcome.jobID = jobID
        guard let reason = CheckpointReason(command.reason) else {
            return outcome.reject(.invalidArgument, "checkpoint reason \(command.reason) is not a reason")
        }
        guard var job = liveJob(jobID, token: FencingToken(command.token), &outcome) else { return }
        var attempt = job.attempts[job.attempts.count - 1]
        if attempt.state == .checkpointing && attempt.checkpointDeadline != 0 {
            outcome.duplicate = true
            return
        }
        attempt.state = .checkpointing
        attempt.checkpointReason = reason
        attempt.checkpointDeadline = at.saturatingAdd(UInt64(command.graceMs))
        job.attempts[job.attempts.count - 1] = attempt
        job.updatedAt = at
        jobsByID[jobID] = job
        outcome.send(attempt.workerID, .checkpointing(jobID, attempt.token, graceMs: command.graceMs))
        outcome.note(jobID, "attempt \(attempt.number) asked to checkpoint (\(reason))")
    }

    /// The checkpoint grace ran out: the attempt counts as stopped and the job
    /// resumes elsewhere from the checkpoint it already has.
    mutating func preemptAttempt(_ command: Flotilla_V1_Command.PreemptAttempt, at: UInt64,
                                 _ outcome: inout CommandOutcome) {
        let jobID = JobID(command.jobID)
        outcome.jobID = jobID
        guard var job = liveJob(jobID, token: FencingToken(command.token), &outcome) else { return }
        let reason = job.attempts[job.attempts.count - 1].checkpointReason
            ?? CheckpointReason(command.reason) ?? .operator
        endLiveAttempt(of: &job, as: .preempted, at: at, error: "stopped without a checkpoint (\(reason))",
                       countsAgainstMaxAttempts: reason == .stall)
        let attempt = job.attempts[job.attempts.count - 1]
        outcome.send(attempt.workerID, .stopping(jobID, attempt.token))
        requeueOrFail(&job, retryable: true, error: attempt.error, at: at, &outcome)
    }

    /// The job if `token` names its live attempt; otherwise rejects a stale proposal.
    func liveJob(_ jobID: JobID, token: FencingToken, _ outcome: inout CommandOutcome) -> Job? {
        guard let job = jobsByID[jobID] else {
            outcome.reject(.notFound, "no job \(jobID)")
            return nil
        }
        guard let attempt = job.liveAttempt, attempt.token == token else {
            outcome.reject(.failedPrecondition, "attempt \(token) of job \(jobID) is not live")
            return nil
        }
        return job
    }

    /// Ends the job's live attempt, frees its GPUs and tells the model's
    /// breaker; the caller decides the job's fate. `modelFault`: a failure the
    /// model itself caused (it counts against the breaker).
    mutating func endLiveAttempt(of job: inout Job, as state: AttemptState, at: UInt64, error: String,
                                 countsAgainstMaxAttempts: Bool, modelFault: Bool = false) {
        guard var attempt = job.liveAttempt else { return }
        judge(attempt, endedAs: state, modelFault: modelFault, at: at)
        attempt.state = state
        attempt.endedAt = at
        attempt.error = error
        attempt.countsAgainstMaxAttempts = countsAgainstMaxAttempts
        job.attempts[job.attempts.count - 1] = attempt
        job.updatedAt = at
        if var worker = workersByID[attempt.workerID] {
            for index in attempt.gpuIndices where worker.allocations[index] == job.id {
                worker.allocations[index] = nil
            }
            workersByID[attempt.workerID] = worker
        }
    }

    /// After an attempt ended without success: queue the job again (to resume
    /// from its latest checkpoint) or, when the failure is final or the job has
    /// used up its attempts, fail it. Stores the job.
    mutating func requeueOrFail(_ job: inout Job, retryable: Bool, error: String, at: UInt64,
                                _ outcome: inout CommandOutcome) {
        job.updatedAt = at
        let consumed = job.consumedAttempts
        if !retryable || consumed >= Int(job.spec.maxAttempts) {
            job.state = .failed
            job.error = retryable ? "failed after \(consumed) attempts: \(error)" : error
            outcome.note(job.id, "failed: \(job.error)", stateChanged: true)
        } else {
            job.state = .queued
            queue.insert(job)
            let resume = job.latestCheckpoint.map { "from checkpoint step \($0.step)" } ?? "from step 0"
            outcome.note(job.id, "requeued to resume \(resume): \(error)", stateChanged: true)
        }
        jobsByID[job.id] = job
    }
}

extension CheckpointReason {
    init?(_ proto: Flotilla_V1_CheckpointReason) {
        switch proto {
        case .stall: self = .stall
        case .drain: self = .drain
        case .preemption: self = .preemption
        case .operator: self = .operator
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    var proto: Flotilla_V1_CheckpointReason {
        switch self {
        case .stall: .stall
        case .drain: .drain
        case .preemption: .preemption
        case .operator: .operator
        }
    }
}
