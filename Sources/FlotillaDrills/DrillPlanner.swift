import FlotillaCoordinatorState
import FlotillaProto

/// Why a drill request was not planned. `invalid` and `notFound` are errors
/// of the request; `refused` is a drill that cannot or must not run now.
public enum DrillPlanError: Error, Hashable, Sendable {
    case invalid(String)
    case notFound(String)
    case refused(String, BlastRadius)
}

/// Turns a `DrillRequest` into a `DrillPlan` against the state: checks its
/// parameters, chooses the targets, and runs the blast-radius check.
public enum DrillPlanner {
    public static func plan(_ request: Flotilla_V1_DrillRequest, state: CoordinatorState,
                            health: HealthPolicy) throws(DrillPlanError) -> DrillPlan {
        guard let profile = DrillProfile.of(request.kind) else {
            throw .invalid("drill \(request.kind) is not run by a coordinator of this version")
        }
        guard profile.kind != .leaderFailover else { throw .invalid("leader-failover is planned by LeaderFailover.plan") }
        let duration = request.durationMs == 0 ? DrillProfile.defaultDurationMs : request.durationMs
        let delay = request.delayMs == 0 ? DrillProfile.defaultDelayMs : request.delayMs
        guard duration <= DrillProfile.maxDurationMs else { throw .invalid("duration_ms \(duration) is over the 10 min limit") }
        guard delay <= DrillProfile.maxDelayMs else { throw .invalid("delay_ms \(delay) is over the 60 s limit") }
        // A lasting fault needs time to end and be watched afterwards (slow-worker: a window after it, too).
        let watched = profile.kind == .slowWorker ? 2 * duration : duration
        let minimumTimeout = profile.lasts ? watched + 2 * health.heartbeatTimeoutMs : 0
        let timeout = request.timeoutMs == 0 ? max(DrillProfile.defaultTimeoutMs, minimumTimeout) : request.timeoutMs
        guard timeout <= DrillProfile.maxTimeoutMs else { throw .invalid("timeout_ms \(timeout) is over the 1 h limit") }
        guard timeout > watched || !profile.lasts else {
            throw .invalid("timeout_ms \(timeout) must be longer than the fault (\(watched) ms) to watch the recovery")
        }

        var plan = DrillPlan(
            profile: profile, targets: [], targetNames: [], targetText: "", zone: "", jobID: nil, checkpoint: nil,
            durationMs: duration, delayMs: delay,
            objectiveMs: request.objectiveMs == 0 ? profile.defaultObjectiveMs : request.objectiveMs,
            timeoutMs: timeout, blastRadius: BlastRadius(), forced: request.force,
            heartbeatIntervalMs: health.heartbeatIntervalMs)

        let targets: [Worker]
        switch profile.kind {
        case .failZone:
            guard !request.zone.isEmpty else { throw .invalid("fail-zone needs a zone (DrillRequest.zone)") }
            targets = state.workers.filter { $0.labels["zone"] == request.zone && $0.health != .lost }
            guard !targets.isEmpty else { throw .refused("no live worker is labelled zone=\(request.zone)", BlastRadius()) }
            plan.zone = request.zone
            plan.targetText = "zone \(request.zone)"
        case .corruptCheckpoint:
            let job = try checkpointedJob(request.jobID, state: state)
            guard let attempt = job.liveAttempt, let worker = state.worker(attempt.workerID) else {
                throw .refused("job \(job.id) is not running", BlastRadius())
            }
            targets = [worker]
            plan.jobID = job.id
            plan.checkpoint = job.latestCheckpoint
            plan.targetText = job.id.rawValue
        default:
            if request.target.isEmpty {
                targets = [try chooseWorker(state)]
            } else {
                guard let worker = state.worker(idOrName: request.target) else { throw .notFound("no worker \(request.target)") }
                targets = [worker]
            }
            plan.targetText = targets[0].name
        }

        for worker in targets {
            guard worker.allowsDrills else {
                throw .refused("worker \(worker.name) does not allow drills (drills.allow is false in its configuration)", BlastRadius())
            }
            guard worker.health == .alive else {
                throw .refused("worker \(worker.name) is \(worker.state), not healthy: nothing to learn from faulting it", BlastRadius())
            }
        }
        plan.targets = targets.map(\.id)
        plan.targetNames = targets.map(\.name)
        plan.blastRadius = BlastRadius.check(targets, in: state)
        if profile.kind == .slowWorker {
            // Heartbeats arrive `delay` late: the first gap is interval + delay.
            let threshold = health.suspectAfterMs - min(health.suspectAfterMs, health.heartbeatIntervalMs)
            if delay >= threshold {
                plan.blastRadius.unsafe.append("a delay of \(DrillClock.text(ms: delay)) reaches the suspicion threshold (\(DrillClock.text(ms: threshold)) of delay): the worker would be declared SUSPECT")
            } else {
                plan.blastRadius.findings.append("a delay of \(DrillClock.text(ms: delay)) stays below the suspicion threshold (\(DrillClock.text(ms: threshold)))")
            }
        }
        if plan.blastRadius.isUnsafe && !request.force {
            throw .refused("unsafe: " + plan.blastRadius.unsafe.joined(separator: "; ") + " (--force runs it anyway)", plan.blastRadius)
        }
        return plan
    }

    /// A worker for kill-worker or freeze-worker when none is named: one
    /// allowing drills, safe to fault, running the most checkpointed work
    /// (then the most work), earliest registered first.
    static func chooseWorker(_ state: CoordinatorState) throws(DrillPlanError) -> Worker {
        let candidates = state.workers.filter { $0.allowsDrills && $0.health == .alive }
        guard !candidates.isEmpty else {
            throw .refused("no healthy worker allows drills (drills.allow in the worker's configuration)", BlastRadius())
        }
        func score(_ worker: Worker) -> (Int, Int) {
            let jobs = state.jobs(holding: worker)
            return (jobs.count(where: { $0.latestCheckpoint != nil }), jobs.count)
        }
        let safe = candidates.filter { !BlastRadius.check([$0], in: state).isUnsafe }
        guard let best = (safe.isEmpty ? candidates : safe).max(by: { score($0) < score($1) || (score($0) == score($1) && $0.sequence > $1.sequence) }) else {
            throw .refused("no worker to fault", BlastRadius())
        }
        return best
    }

    /// The named job (which must be running with a checkpoint) or the running
    /// job with the newest checkpoint on a worker that allows drills.
    static func checkpointedJob(_ id: String, state: CoordinatorState) throws(DrillPlanError) -> Job {
        if !id.isEmpty {
            guard let job = state.job(JobID(id)) else { throw .notFound("no job \(id)") }
            guard job.liveAttempt != nil else { throw .refused("job \(id) is \(job.state), not running", BlastRadius()) }
            guard job.latestCheckpoint != nil else { throw .refused("job \(id) has no checkpoint yet", BlastRadius()) }
            return job
        }
        let candidates = state.runningJobs.filter { job in
            guard job.latestCheckpoint != nil, let attempt = job.liveAttempt else { return false }
            return state.worker(attempt.workerID)?.allowsDrills == true
        }
        guard let job = candidates.max(by: { ($0.latestCheckpoint?.step ?? 0) < ($1.latestCheckpoint?.step ?? 0) }) else {
            throw .refused("no running job has a checkpoint on a worker that allows drills", BlastRadius())
        }
        return job
    }
}
