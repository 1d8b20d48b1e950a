import FlotillaProto

extension CoordinatorState {
    /// Directives a worker must hold after (re)subscribing: its attempts not
    /// yet started, checkpoint requests still pending, and an operator's drain.
    /// A directive sent while the worker was disconnected is otherwise lost,
    /// and the attempt would sit ASSIGNED until the stall timeout.
    public func outstandingDirectives(for workerID: WorkerID, now: UInt64) -> [Flotilla_V1_WorkerDirective] {
        guard let worker = workersByID[workerID] else { return [] }
        var directives: [Flotilla_V1_WorkerDirective] = []
        if worker.drain?.byOperator == true { directives.append(.draining) }
        for job in jobs(holding: worker) {
            guard let attempt = job.liveAttempt, attempt.workerID == workerID else { continue }
            switch attempt.state {
            case .assigned:
                directives.append(.assigning(assignment(job, attempt)))
            case .checkpointing:
                let left = attempt.checkpointDeadline.saturatingSubtract(now)
                directives.append(.checkpointing(job.id, attempt.token, graceMs: UInt32(clamping: left)))
            default:
                break
            }
        }
        return directives
    }
}
