import FlotillaProto

/// The state as get/list/status/watch responses show it.
extension Job {
    public var proto: Flotilla_V1_Job {
        var job = Flotilla_V1_Job()
        job.id = id.rawValue
        job.spec = spec
        job.state = state.proto
        job.submittedUnixMs = submittedAt
        job.updatedUnixMs = updatedAt
        job.step = step
        job.totalSteps = totalSteps
        job.attempts = attempts.map(\.info)
        if let latestCheckpoint { job.latestCheckpoint = latestCheckpoint }
        job.error = error
        job.modelUsed = modelUsed
        job.fallbackUsed = fallbackUsed
        job.region = region
        return job
    }
}

extension Attempt {
    public var info: Flotilla_V1_AttemptInfo {
        var info = Flotilla_V1_AttemptInfo()
        info.number = number
        info.token = token.proto
        info.workerID = workerID.rawValue
        info.state = state.proto
        info.startedUnixMs = startedAt
        info.endedUnixMs = endedAt
        info.resumedFromStep = resumedFromStep
        info.error = error
        info.model = model
        return info
    }
}

/// Counts for ClusterStatusResponse and metrics.
public struct ClusterSummary: Hashable, Sendable {
    public var workersReady = 0
    public var workersTotal = 0
    public var gpusTotal = 0
    public var gpusAllocated = 0
    public var jobsQueued = 0
    public var jobsRunning = 0
    public var jobsSucceeded = 0
    public var jobsFailed = 0
    public var jobsCancelled = 0
}

extension CoordinatorState {
    /// A worker with the attempts it runs, for ListWorkers and DrainWorker.
    public func workerInfo(_ id: WorkerID) -> Flotilla_V1_WorkerInfo? {
        guard let worker = workersByID[id] else { return nil }
        var info = Flotilla_V1_WorkerInfo()
        info.id = id.rawValue
        info.name = worker.name
        info.state = worker.state.proto
        info.gpus = worker.gpus
        info.gpusAllocated = UInt32(worker.gpusAllocated)
        info.models = worker.models
        info.labels = worker.labels
        info.lastHeartbeatUnixMs = worker.lastHeartbeatAt
        info.address = worker.address
        info.allowsDrills = worker.allowsDrills
        info.running = jobs(holding: worker).compactMap { job in
            job.liveAttempt.map { attempt in
                var running = Flotilla_V1_RunningAttempt()
                running.jobID = job.id.rawValue
                running.token = attempt.token.proto
                running.step = job.step
                running.totalSteps = job.totalSteps
                running.state = attempt.state.proto
                return running
            }
        }
        return info
    }

    /// The watch event for a change an outcome reported, with the job as it
    /// stands now (the whole record when its state changed).
    public func jobEvent(for change: JobChange, at: UInt64) -> Flotilla_V1_JobEvent? {
        guard let job = jobsByID[change.jobID] else { return nil }
        var event = Flotilla_V1_JobEvent()
        event.jobID = job.id.rawValue
        event.state = job.state.proto
        event.attempt = job.currentAttempt?.number ?? 0
        event.workerID = job.liveAttempt?.workerID.rawValue ?? ""
        event.step = job.step
        event.totalSteps = job.totalSteps
        event.message = change.message
        event.atUnixMs = at
        if change.stateChanged { event.job = job.proto }
        return event
    }

    public var summary: ClusterSummary {
        var summary = ClusterSummary()
        for worker in workersByID.values {
            summary.workersTotal += 1
            if worker.state == .ready { summary.workersReady += 1 }
            if worker.health != .lost {
                summary.gpusTotal += worker.gpus.count
                summary.gpusAllocated += worker.gpusAllocated
            }
        }
        // From the index's bucket sizes: no walk over the jobs.
        summary.jobsQueued = jobCount(in: .queued)
        summary.jobsRunning = jobCount(in: .running)
        summary.jobsSucceeded = jobCount(in: .succeeded)
        summary.jobsFailed = jobCount(in: .failed)
        summary.jobsCancelled = jobCount(in: .cancelled)
        return summary
    }
}
