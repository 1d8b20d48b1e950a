import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import FlotillaTestSupport

/// Writes a random but plausible log: commands are drawn from what the state
/// holds now (real jobs, tokens and workers, with some stale, unknown and
/// malformed ones mixed in), and the leader's planner runs every so often.
struct RandomWorkload {
    var rng: SplitMix64
    var cluster = Cluster()
    let planner = CoordinatorPlanner(health: HealthPolicy(heartbeatIntervalMs: 2_000, heartbeatTimeoutMs: 8_000,
                                                          stallTimeoutMs: 15_000, checkpointGraceMs: 3_000),
                                      placement: Scheduler())
    let workerNames = ["w1", "w2", "w3", "w4", "w5"]
    let models = ["mochi-1", "open-sora", "veo-3"]
    let tenants = ["acme", "globex", ""]

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Appends the next command (or the planner's batch); returns the entries written.
    mutating func step() -> [LogEntryRecord] {
        let before = cluster.entries.count
        cluster.advance(UInt64.random(in: 0...600, using: &rng))
        let roll = cluster.state.workers.count < 3 && rng.chance(30) ? 14 : Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<14: cluster.submit(randomSpec())
        case 14..<18: cluster.register(randomRegistration())
        case 18..<34: heartbeat()
        case 34..<46: report(progress: true)
        case 46..<52: report(checkpoint: true)
        case 52..<62: finish()
        case 62..<65: cluster.apply(.cancelJob(randomJobID(), reason: "user", at: cluster.now))
        case 65..<67:
            guard rng.chance(50) else { return step() }
            cluster.apply(.drain(randomWorkerID(), reason: "ops", fromWorker: rng.chance(70), at: cluster.now))
        case 67..<71: markWorker()
        case 71..<74: coordinatorStop()
        case 74..<78: randomAssign()
        case 78..<80: setTenant()
        case 80: cluster.term += 1; cluster.apply(.termStarted(leader: "c\(cluster.term)", at: cluster.now))
        case 81: cluster.apply(Flotilla_V1_Command())
        case 82..<85: breakers()
        case 85..<87:
            // Retention: a cutoff somewhere in the recent past, sometimes a small cap.
            cluster.apply(.pruneJobs(olderThan: cluster.now.saturatingSubtract(UInt64.random(in: 0...20_000, using: &rng)),
                                     maxTerminalJobs: rng.chance(50) ? UInt64.random(in: 0...6, using: &rng) : 0,
                                     at: cluster.now))
        default: cluster.plan(planner, leaderSince: cluster.state.leaderSince)
        }
        return Array(cluster.entries[before...])
    }

    // MARK: - Picking from the state

    mutating func randomJobID() -> JobID {
        rng.chance(5) ? "job-404" : (rng.pick(cluster.state.jobs)?.id ?? "job-1")
    }

    mutating func randomWorkerID() -> WorkerID {
        rng.chance(5) ? "worker-404" : (rng.pick(cluster.state.workers)?.id ?? "worker-1")
    }

    /// Mostly a running job; sometimes any job, or none (a junk id).
    mutating func reportedJob() -> Job? {
        if rng.chance(5) { return nil }
        let running = cluster.state.runningJobs
        return rng.chance(90) && !running.isEmpty ? rng.pick(running) : rng.pick(cluster.state.jobs)
    }

    /// Mostly the current attempt's token; sometimes an older, a newer or a junk one.
    mutating func token(for job: Job?) -> FencingToken {
        guard let current = job?.currentAttempt?.token else {
            return FencingToken(term: cluster.term, attempt: UInt32.random(in: 0...2, using: &rng))
        }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return FencingToken(term: current.term, attempt: current.attempt &- 1)
        case 1: return FencingToken(term: current.term + 1, attempt: current.attempt + 1)
        case 2: return FencingToken(term: current.term &- 1, attempt: current.attempt)
        default: return current
        }
    }

    mutating func runningAttempts(on workerID: WorkerID) -> [Flotilla_V1_RunningAttempt] {
        var jobs = cluster.state.jobs.filter { $0.currentAttempt?.workerID == workerID }
        if rng.chance(20), let other = rng.pick(cluster.state.jobs) { jobs.append(other) }
        return jobs.filter { _ in rng.chance(85) }.map { job in
            var running = Flotilla_V1_RunningAttempt()
            running.jobID = job.id.rawValue
            running.token = token(for: job).proto
            running.step = job.step + UInt64.random(in: 0...3, using: &rng)
            running.totalSteps = job.spec.steps
            running.state = rng.pick([.assigned, .running, .checkpointing])!
            return running
        }
    }

    // MARK: - Commands

    mutating func randomSpec() -> Flotilla_V1_JobSpec {
        var spec = jobSpec(model: rng.pick(["mochi-1", "mochi-1", "mochi-1", "open-sora", "veo-3", "mochi-1"])!,
                           gpus: UInt32.random(in: 0...3, using: &rng),
                           type: rng.pick(["", "", "", "H100", "a100"])!, tenant: rng.pick(tenants)!,
                           key: rng.chance(40) ? "key-\(Int.random(in: 0..<8, using: &rng))" : "",
                           maxAttempts: UInt32.random(in: 0...3, using: &rng), steps: UInt64.random(in: 0...60, using: &rng),
                           labels: rng.chance(10) ? ["zone": "a"] : [:])
        spec.fallbackAllowed = rng.chance(40)
        if rng.chance(3) { spec.gpuCount = 10_000 }
        if rng.chance(3) { spec.model = "" }
        spec.params = ["prompt": "a boat \(Int.random(in: 0..<3, using: &rng))", "seed": "\(Int.random(in: 0..<3, using: &rng))"]
        return spec
    }

    mutating func randomRegistration() -> Flotilla_V1_RegisterWorkerRequest {
        let lost = cluster.state.workers.filter { $0.state == .lost }.map(\.name)
        let name = rng.chance(60) ? (rng.pick(lost) ?? rng.pick(workerNames)!) : rng.pick(workerNames)!
        var request = registration(name, gpus: Int.random(in: 1...4, using: &rng), type: rng.pick(["H100", "A100"])!,
                                   models: ["mochi-1"] + models.dropFirst().filter { _ in rng.chance(50) },
                                   labels: rng.chance(30) ? ["zone": "a"] : [:])
        if let id = cluster.state.worker(named: name)?.id { request.running = runningAttempts(on: id) }
        return request
    }

    /// A round of heartbeats: most workers that are not lost, and now and then an unknown or lost one.
    mutating func heartbeat() {
        var ids = cluster.state.workers.filter { $0.state != .lost && rng.chance(80) }.map(\.id)
        if rng.chance(10) { ids.append(randomWorkerID()) }
        for id in ids { cluster.heartbeat(id, running: runningAttempts(on: id), draining: rng.chance(1)) }
    }

    mutating func report(progress: Bool = false, checkpoint: Bool = false) {
        let job = reportedJob()
        let id = job?.id ?? randomJobID()
        let token = token(for: job)
        let step = (job?.step ?? 0) + UInt64.random(in: 0...4, using: &rng)
        if progress { cluster.progress(id, token: token, step: step) }
        if checkpoint { cluster.checkpoint(id, token: token, step: step) }
    }

    mutating func finish() {
        let job = reportedJob()
        let id = job?.id ?? randomJobID()
        let state: Flotilla_V1_AttemptState = rng.pick([.succeeded, .succeeded, .failed, .failed, .preempted, .cancelled, .running])!
        cluster.finish(id, token: token(for: job), state, retryable: rng.chance(70), error: "exit 1",
                       checkpointUnusable: rng.chance(10), modelFault: rng.chance(60))
    }

    /// Suspect or lost, judged by the right heartbeat or (stale) a wrong one.
    mutating func markWorker() {
        guard let worker = rng.pick(cluster.state.workers) else { return }
        let seen = rng.chance(80) ? worker.lastHeartbeatAt : worker.lastHeartbeatAt &- 1
        cluster.apply(rng.chance(50) ? .suspect(worker.id, lastHeartbeatAt: seen, at: cluster.now)
                                     : .lost(worker.id, lastHeartbeatAt: seen, reason: "silent", at: cluster.now))
    }

    mutating func coordinatorStop() {
        let job = reportedJob()
        let id = job?.id ?? randomJobID()
        let reason = rng.pick(CheckpointReason.allCases)!
        cluster.apply(rng.chance(60)
            ? .requestCheckpoint(id, token: token(for: job), reason: reason, graceMs: 2_000, at: cluster.now)
            : .preempt(id, token: token(for: job), reason: reason, at: cluster.now))
    }

    /// Assignments the planner would not make: wrong GPUs, busy workers, finished jobs.
    mutating func randomAssign() {
        let job = rng.pick(cluster.state.queuedJobs) ?? rng.pick(cluster.state.jobs)
        let gpus = (0..<Int.random(in: 0...3, using: &rng)).map { _ in UInt32.random(in: 0...4, using: &rng) }
        let share = rng.chance(50) ? Placement.ShareTags(tier: rng.pick([.premium, .standard, .free])!,
                                                         start: UInt64.random(in: 0...5_000_000, using: &rng),
                                                         finish: UInt64.random(in: 0...9_000_000, using: &rng)) : nil
        let placement = Placement(jobID: job?.id ?? randomJobID(), workerID: randomWorkerID(), gpuIndices: gpus,
                                  model: rng.pick(["", "", "open-sora", "mochi-1"])!, share: share)
        cluster.apply(.assign(placement, at: cluster.now))
    }

    /// Breaker policy (short windows, fallbacks), operator trips and resets.
    mutating func breakers() {
        if rng.chance(20) {
            var policy = BreakerPolicy(failureThreshold: Int.random(in: 1...3, using: &rng), windowMs: 5_000,
                                       recoveryMs: UInt64.random(in: 500...3_000, using: &rng), halfOpenProbes: 2)
            policy.fallbacks = ["mochi-1": "open-sora", "veo-3": "mochi-1"]
            cluster.apply(.configureBreakers(policy, at: cluster.now))
        } else {
            let model = rng.pick(models + ["unknown-model"])!
            cluster.apply(.breakerAction(model, rng.pick([.reset, .trip, .unspecified])!, at: cluster.now))
        }
    }

    mutating func setTenant() {
        var tenant = Flotilla_V1_TenantQuota()
        tenant.tenant = rng.pick(tenants)!
        tenant.maxGpus = UInt32.random(in: 0...4, using: &rng)
        tenant.maxQueuedJobs = rng.chance(50) ? 0 : UInt32.random(in: 1...8, using: &rng)
        tenant.defaultTier = rng.pick([.unspecified, .premium, .free])!
        cluster.apply(.setTenant(tenant, at: cluster.now))
    }
}
