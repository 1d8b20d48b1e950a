import FlotillaProto

/// Worker registration, heartbeats, health marks and drains.
extension CoordinatorState {
    /// A new name gets a new id; a known name re-registers (after a reconnect or
    /// a restart) and keeps its id. The attempts it lists are reconciled with
    /// ours: current ones continue, others are stopped, and ours it no longer
    /// runs are lost and requeued.
    mutating func registerWorker(_ command: Flotilla_V1_Command.RegisterWorker, index: UInt64, at: UInt64,
                                 _ outcome: inout CommandOutcome) {
        let registration = command.registration
        guard !registration.name.isEmpty else { return outcome.reject(.invalidArgument, "worker name is required") }
        guard Set(registration.gpus.map(\.index)).count == registration.gpus.count else {
            return outcome.reject(.invalidArgument, "worker \(registration.name) lists a GPU index twice")
        }
        let id = workerIDsByName[registration.name] ?? WorkerID(registeredAt: index)
        var worker = workersByID[id] ?? Worker(
            id: id, sequence: index, name: registration.name, health: .alive, drain: nil, gpus: [], models: [],
            labels: [:], region: "", software: "", address: "", registeredAt: at, lastHeartbeatAt: at, allocations: [:])
        if workersByID[id] == nil {
            workerIDsByName[registration.name] = id
        }
        worker.health = .alive
        if worker.drain?.byOperator == false { worker.drain = nil }
        worker.gpus = registration.gpus
        worker.models = registration.models
        worker.labels = registration.labels
        worker.region = registration.region
        worker.software = registration.software
        worker.allowsDrills = registration.allowsDrills
        worker.address = command.address
        worker.registeredAt = at
        worker.lastHeartbeatAt = at
        workersByID[id] = worker
        refreshKnownModels()
        outcome.workerID = id

        // Ours that the worker no longer runs (or whose GPUs it no longer has): lost.
        let listed = Set(registration.running.map { Flotilla_V1_FencingTokenForJob(JobID($0.jobID), FencingToken($0.token)) })
        let gpuIndices = Set(registration.gpus.map(\.index))
        for var job in jobs(holding: worker) {
            guard let attempt = job.liveAttempt else { continue }
            let keeps = listed.contains(.init(job.id, attempt.token)) && attempt.gpuIndices.allSatisfy(gpuIndices.contains)
            if !keeps {
                endLiveAttempt(of: &job, as: .lost, at: at, error: "worker \(worker.name) re-registered without it",
                               countsAgainstMaxAttempts: false)
                requeueOrFail(&job, retryable: true, error: "worker \(worker.name) restarted without it", at: at, &outcome)
            }
        }
        for running in registration.running {
            switch verdict(on: running, from: id, reclaiming: true) {
            case .current(var job):
                _ = advance(&job, step: running.step, totalSteps: running.totalSteps,
                            state: Self.reported(running.state), at: at, &outcome)
                jobsByID[job.id] = job
            case .reclaimable(var job):
                reclaim(&job, running, at: at, &outcome)
            case .unknownHere:
                break
            case .stop(let target):
                outcome.stopAttempts.append(target)
            }
        }
    }

    /// What a worker's report of an attempt it runs means here: one rule for
    /// registrations, heartbeats, and the leader's check of whether a heartbeat
    /// needs logging.
    enum RunningVerdict {
        /// The job's live attempt, on this worker.
        case current(Job)
        /// Declared lost, but nobody took it over: the worker may keep it.
        case reclaimable(Job)
        /// This coordinator is behind the worker: do not make it stop work that may be current.
        case unknownHere
        /// Superseded, ended or unknown: the worker must stop it.
        case stop(Flotilla_V1_FencingTokenForJob)
    }

    func verdict(on running: Flotilla_V1_RunningAttempt, from id: WorkerID, reclaiming: Bool) -> RunningVerdict {
        let jobID = JobID(running.jobID)
        let token = FencingToken(running.token)
        switch target(jobID, token) {
        case .live(let job) where job.liveAttempt?.workerID == id:
            return .current(job)
        case .ended(let job, let attempt) where reclaiming && reclaimable(job, attempt, by: id):
            return .reclaimable(job)
        case .rejected(let rejection) where !rejection.stopAttempt:
            return .unknownHere
        default:
            return .stop(.init(jobID, token))
        }
    }

    /// Jobs with a live attempt on the worker, in submission order.
    public func jobs(holding worker: Worker) -> [Job] {
        Set(worker.allocations.values).compactMap { jobsByID[$0] }.sorted { $0.sequence < $1.sequence }
    }

    /// A worker declared lost that comes back before its job was placed
    /// elsewhere keeps the attempt: nobody else has started over its work.
    func reclaimable(_ job: Job, _ attempt: Attempt, by workerID: WorkerID) -> Bool {
        guard attempt.state == .lost, attempt.workerID == workerID, job.state == .queued,
              let worker = workersByID[workerID] else { return false }
        let present = Set(worker.gpus.map(\.index))
        return attempt.gpuIndices.allSatisfy { present.contains($0) && worker.allocations[$0] == nil }
    }

    mutating func reclaim(_ job: inout Job, _ running: Flotilla_V1_RunningAttempt, at: UInt64,
                          _ outcome: inout CommandOutcome) {
        var attempt = job.attempts[job.attempts.count - 1]
        attempt.state = Self.reported(running.state) == .assigned ? .assigned : .running
        attempt.endedAt = 0
        attempt.error = ""
        attempt.checkpointReason = nil
        attempt.checkpointDeadline = 0
        job.attempts[job.attempts.count - 1] = attempt
        queue.remove(job)
        job.state = .running
        job.lastProgressAt = at
        job.updatedAt = at
        if running.step > job.step { job.step = running.step }
        workersByID[attempt.workerID]?.allocations.merge(attempt.gpuIndices.map { ($0, job.id) }) { $1 }
        jobsByID[job.id] = job
        outcome.note(job.id, "attempt \(attempt.number) kept by \(attempt.workerID), which reconnected", stateChanged: true)
    }

    /// A heartbeat restates the worker's attempts; superseded ones are told to
    /// stop. A lost worker must register again so that its attempts are
    /// reconciled, so its heartbeat is refused as unknown.
    mutating func heartbeat(_ heartbeat: Flotilla_V1_HeartbeatRequest, at: UInt64, _ outcome: inout CommandOutcome) {
        let id = WorkerID(heartbeat.workerID)
        outcome.workerID = id
        guard var worker = workersByID[id] else { return outcome.reject(.notFound, "no worker \(id)") }
        guard worker.health != .lost else {
            return outcome.reject(.notFound, "worker \(id) was declared lost; register again")
        }
        worker.health = .alive
        worker.lastHeartbeatAt = at
        if heartbeat.draining, worker.drain == nil { worker.drain = Drain(reason: "worker draining", byOperator: false) }
        workersByID[id] = worker
        for running in heartbeat.running {
            switch verdict(on: running, from: id, reclaiming: false) {
            case .current(var job):
                _ = advance(&job, step: running.step, totalSteps: running.totalSteps,
                            state: Self.reported(running.state), at: at, &outcome)
                jobsByID[job.id] = job
            case .reclaimable, .unknownHere:
                break
            case .stop(let target):
                outcome.stopAttempts.append(target)
            }
        }
    }

    /// Guarded by the heartbeat the proposer saw, so a late proposal cannot
    /// mark a worker that has been heard from since.
    mutating func markSuspect(_ command: Flotilla_V1_Command.MarkWorkerSuspect, _ outcome: inout CommandOutcome) {
        let id = WorkerID(command.workerID)
        outcome.workerID = id
        guard var worker = workersByID[id] else { return outcome.reject(.notFound, "no worker \(id)") }
        guard worker.lastHeartbeatAt == command.lastHeartbeatUnixMs else {
            return outcome.reject(.failedPrecondition, "worker \(id) has heartbeated since")
        }
        switch worker.health {
        case .suspect: outcome.duplicate = true
        case .lost: outcome.reject(.failedPrecondition, "worker \(id) is already lost")
        case .alive:
            worker.health = .suspect
            workersByID[id] = worker
        }
    }

    /// The worker timed out: its attempts are lost (not the jobs' fault, so no
    /// attempt is used up) and their jobs requeued to resume from their
    /// latest checkpoints.
    mutating func markLost(_ command: Flotilla_V1_Command.MarkWorkerLost, at: UInt64, _ outcome: inout CommandOutcome) {
        let id = WorkerID(command.workerID)
        outcome.workerID = id
        guard var worker = workersByID[id] else { return outcome.reject(.notFound, "no worker \(id)") }
        guard worker.health != .lost else {
            outcome.duplicate = true
            return
        }
        guard worker.lastHeartbeatAt == command.lastHeartbeatUnixMs else {
            return outcome.reject(.failedPrecondition, "worker \(id) has heartbeated since")
        }
        worker.health = .lost
        workersByID[id] = worker
        let reason = command.reason.isEmpty ? "worker \(worker.name) lost" : "worker \(worker.name) lost: \(command.reason)"
        for var job in jobs(holding: worker) {
            endLiveAttempt(of: &job, as: .lost, at: at, error: reason, countsAgainstMaxAttempts: false)
            requeueOrFail(&job, retryable: true, error: reason, at: at, &outcome)
        }
    }

    /// The worker takes no new work and becomes DRAINED when its attempts end.
    /// Draining again changes nothing (an operator's drain replaces the
    /// worker's own, so that it outlives the worker's restart).
    mutating func drainWorker(_ command: Flotilla_V1_Command.DrainWorker, _ outcome: inout CommandOutcome) {
        let id = WorkerID(command.workerID)
        outcome.workerID = id
        guard var worker = workersByID[id] else { return outcome.reject(.notFound, "no worker \(id)") }
        let byOperator = !command.fromWorker
        if let drain = worker.drain, drain.byOperator || !byOperator {
            outcome.duplicate = true
            return
        }
        let announce = worker.drain == nil && worker.health != .lost
        worker.drain = Drain(reason: command.reason, byOperator: byOperator)
        workersByID[id] = worker
        if announce { outcome.send(id, .draining) }
    }
}
