import FlotillaCoordinatorState
import FlotillaProto

/// A superseded attempt a worker still listed as executing (not `ended`) in a
/// heartbeat or a registration, as the leader saw it. Reports are not
/// evidence: a fenced attempt may still deliver its last one.
public struct StaleSighting: Sendable, Hashable {
    public var attempt: UInt32
    public var at: UInt64
    public init(attempt: UInt32, at: UInt64) {
        self.attempt = attempt
        self.at = at
    }
}

/// What a drill watches, read from the state at one moment: the targets, the
/// jobs it tracks (and any now placed on a target), and the capacity left.
/// Small on purpose: taken every poll, it must not copy the state.
public struct DrillObservation: Sendable, Hashable {
    public struct Target: Sendable, Hashable {
        public var name: String
        public var state: WorkerState
        public var lastHeardAt: UInt64
    }

    public struct JobSighting: Sendable, Hashable {
        public var state: JobState
        public var model: String
        public var step: UInt64
        /// The newest attempt's number (0: none yet).
        public var attempt: UInt32
        public var attemptState: AttemptState?
        public var attemptStartedAt: UInt64
        /// The live attempt's worker, if any.
        public var workerID: WorkerID?
        public var workerName: String
        public var resumedFromStep: UInt64
        public var checkpointStep: UInt64
        /// The latest attempt that ended because its checkpoint failed verification: when, and why.
        public var checkpointRejectedAt: UInt64?
        public var checkpointRejection: String
        public var error: String
    }

    public var at: UInt64
    public var targets: [WorkerID: Target]
    public var jobs: [JobID: JobSighting]
    /// By model of a tracked job: healthy workers outside the targets that serve it.
    public var healthyServers: [String: Int]
    public var stale: [JobID: StaleSighting]
    /// A finished measurement window (slow-worker), when one was due.
    public var phase: Flotilla_V1_DrillPhase?

    public init(at: UInt64, targets: [WorkerID: Target] = [:], jobs: [JobID: JobSighting] = [:],
                healthyServers: [String: Int] = [:], stale: [JobID: StaleSighting] = [:], phase: Flotilla_V1_DrillPhase? = nil) {
        self.at = at
        self.targets = targets
        self.jobs = jobs
        self.healthyServers = healthyServers
        self.stale = stale
        self.phase = phase
    }

    /// Reads the observation from the state. `lastHeard` gives a worker's
    /// latest heartbeat (kept off the log by the leader).
    public static func of(_ state: CoordinatorState, targets: [WorkerID], tracking: Set<JobID>, at: UInt64,
                          lastHeard: (Worker) -> UInt64, stale: [JobID: StaleSighting]) -> DrillObservation {
        var observation = DrillObservation(at: at)
        var ids = tracking
        for id in targets {
            guard let worker = state.worker(id) else { continue }
            observation.targets[id] = Target(name: worker.name, state: worker.state, lastHeardAt: lastHeard(worker))
            for job in state.jobs(holding: worker) { ids.insert(job.id) }
        }
        let targetSet = Set(targets)
        var models = Set<String>()
        for id in ids {
            guard let job = state.job(id) else { continue }
            observation.jobs[id] = sighting(job, state)
            models.insert(job.modelUsed)
            if let sighting = stale[id] { observation.stale[id] = sighting }
        }
        for model in models {
            observation.healthyServers[model] = state.workers.count { worker in
                worker.acceptsWork && !targetSet.contains(worker.id) && worker.serves(model: model)
            }
        }
        return observation
    }

    static func sighting(_ job: Job, _ state: CoordinatorState) -> JobSighting {
        let current = job.currentAttempt
        let live = job.liveAttempt
        // An unusable checkpoint ends an attempt FAILED without counting against the job.
        let rejected = job.attempts.last { $0.state == .failed && !$0.countsAgainstMaxAttempts && $0.resumeFrom != nil }
        return JobSighting(
            state: job.state, model: job.modelUsed, step: job.step, attempt: current?.number ?? 0,
            attemptState: current?.state, attemptStartedAt: current?.startedAt ?? 0, workerID: live?.workerID,
            workerName: live.flatMap { state.worker($0.workerID)?.name } ?? "",
            resumedFromStep: current?.resumedFromStep ?? 0, checkpointStep: job.latestCheckpoint?.step ?? 0,
            checkpointRejectedAt: rejected?.endedAt, checkpointRejection: rejected?.error ?? "", error: job.error)
    }
}

/// Queue wait and throughput over a window, for slow-worker's before / during / after.
public enum DrillPhaseStats {
    public static func measure(_ state: CoordinatorState, name: String, from: UInt64, to: UInt64,
                               workersLost: Int) -> Flotilla_V1_DrillPhase {
        var phase = Flotilla_V1_DrillPhase()
        phase.name = name
        phase.windowMs = to - from
        var waits: [UInt64] = []
        for job in state.jobs {
            if job.isTerminal, job.updatedAt >= from, job.updatedAt < to {
                if job.state == .succeeded { phase.jobsFinished += 1 }
                if job.state == .failed { phase.jobsFailed += 1 }
            }
            var queuedSince = job.submittedAt
            for attempt in job.attempts {
                if attempt.startedAt >= from, attempt.startedAt < to { waits.append(attempt.startedAt - min(queuedSince, attempt.startedAt)) }
                queuedSince = attempt.endedAt
            }
        }
        phase.jobsPerSecond = to > from ? Double(phase.jobsFinished) * 1_000 / Double(to - from) : 0
        waits.sort()
        phase.queueWaitP50Ms = waits.isEmpty ? 0 : waits[(waits.count - 1) / 2]
        phase.queueWaitMaxMs = waits.last ?? 0
        phase.workersLost = UInt32(clamping: workersLost)
        return phase
    }
}
