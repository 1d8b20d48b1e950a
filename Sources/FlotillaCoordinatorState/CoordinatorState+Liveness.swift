import FlotillaProto

/// Liveness stays in the leader's memory (as in Nomad): a heartbeat goes into the log
/// only when it changes the replicated state. With 1,000 idle workers at one heartbeat
/// every 5 s that is the difference between 200 entries a second, each carrying the
/// worker's running list, and none.
extension CoordinatorState {
    /// What a heartbeat would do, judged without changing anything.
    public struct HeartbeatEffect: Sendable, Equatable {
        /// The heartbeat changes replicated state (health, drain, an attempt's state or
        /// total): it must be proposed as a command.
        public var needsLog: Bool
        /// Attempts the worker must stop (superseded, or of jobs it no longer holds).
        public var stop: [Flotilla_V1_FencingTokenForJob]
        /// Why the heartbeat is refused (an unknown or lost worker), if it is.
        public var rejection: Rejection?
    }

    public func heartbeatEffect(_ heartbeat: Flotilla_V1_HeartbeatRequest) -> HeartbeatEffect {
        let id = WorkerID(heartbeat.workerID)
        guard let worker = workersByID[id] else {
            return HeartbeatEffect(needsLog: false, stop: [], rejection: Rejection(.notFound, "no worker \(id)"))
        }
        guard worker.health != .lost else {
            return HeartbeatEffect(needsLog: false, stop: [],
                                   rejection: Rejection(.notFound, "worker \(id) was declared lost; register again"))
        }
        var needsLog = worker.health != .alive || (heartbeat.draining && worker.drain == nil)
        var stop: [Flotilla_V1_FencingTokenForJob] = []
        for running in heartbeat.running {
            switch verdict(on: running, from: id, reclaiming: false) {
            case .current(let job):
                if Self.wouldAdvance(job, running) { needsLog = true }
            case .reclaimable, .unknownHere:
                break
            case .stop(let target):
                stop.append(target)
            }
        }
        return HeartbeatEffect(needsLog: needsLog, stop: stop, rejection: nil)
    }

    /// Whether `advance` would change the attempt's state or the job's total; steps alone
    /// do not count (progress reports log them).
    private static func wouldAdvance(_ job: Job, _ running: Flotilla_V1_RunningAttempt) -> Bool {
        guard let attempt = job.attempts.last else { return false }
        let reported = Self.reported(running.state)
        if attempt.state == .assigned, reported != .assigned { return true }
        if reported == .checkpointing, attempt.state == .running { return true }
        return running.totalSteps > 0 && running.totalSteps != job.totalSteps
    }
}
