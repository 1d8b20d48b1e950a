import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaScheduler
import Testing

/// Random workloads and failures through the planner with the scheduler:
/// after every step no worker is over-allocated, no job holds GPUs on two
/// workers, the scheduler never proposes what the state refuses, and every
/// submitted job is queued, running, or in the one terminal state it reached.
@Suite struct SchedulerPropertyTests {
    static let models = ["mochi-1", "open-sora", "sdxl"]
    static let tiers: [Flotilla_V1_Tier] = [.premium, .standard, .free]

    @Test(arguments: 1...12)
    func invariantsHoldOverRandomWorkloads(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var cluster = SchedulingCluster {
            $0.reserveAfterMs = 20_000
            $0.agingIntervalMs = 15_000
            $0.preemption.graceMs = 3_000
            $0.preemption.windowMs = 10_000
        }
        var breakers = BreakerPolicy(recoveryMs: 5_000)
        breakers.fallbacks = ["mochi-1": "open-sora"]
        cluster.apply(.configureBreakers(breakers, at: cluster.now))
        var quota = Flotilla_V1_TenantQuota()
        quota.tenant = "t1"
        quota.maxGpus = 6
        cluster.apply(.setTenant(quota, at: cluster.now))
        let planner = CoordinatorPlanner(health: HealthPolicy(heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000,
                                                              stallTimeoutMs: 1_000_000, restartGraceMs: 0),
                                         placement: cluster.scheduler)
        var submitted: [JobID] = []
        var terminal: [JobID: JobState] = [:]
        for index in 0..<6 {
            _ = cluster.worker("w\(index)", gpus: 1 + random.below(8), type: random.chance(50) ? "H100" : "A100",
                               models: Self.models.filter { _ in random.chance(60) } + ["sdxl"])
        }

        for step in 0..<400 {
            cluster.advance(UInt64(100 + random.below(900)))
            switch random.below(10) {
            case 0...2:
                let outcome = cluster.submit(model: random.pick(Self.models)!, gpus: UInt32(1 + random.below(6)),
                                             tier: random.pick(Self.tiers)!, tenant: "t\(random.below(3))",
                                             fallback: random.chance(50), maxAttempts: UInt32(1 + random.below(3)))
                if let id = outcome.jobID, !outcome.duplicate { submitted.append(id) }
            case 3...4:
                if let job = random.pick(cluster.state.runningJobs) {
                    if job.liveAttempt?.state == .assigned { cluster.started(job.id) }
                    let ending: Flotilla_V1_AttemptState = random.chance(60) ? .succeeded : (random.chance(70) ? .failed : .preempted)
                    cluster.finish(job.id, ending, modelFault: random.chance(70))
                }
            case 5:
                if let job = random.pick(submitted) { cluster.apply(.cancelJob(job, at: cluster.now)) }
            case 6:
                if random.chance(20), let model = random.pick(Self.models) {
                    cluster.apply(.breakerAction(model, random.chance(50) ? .trip : .reset, at: cluster.now))
                }
            default:
                // Most workers heartbeat; a silent one is lost by the planner and may return.
                for worker in cluster.state.workers where random.chance(85) {
                    if worker.health == .lost {
                        var request = Flotilla_V1_RegisterWorkerRequest()
                        request.name = worker.name
                        request.gpus = worker.gpus
                        request.models = worker.models
                        cluster.apply(.registerWorker(request, at: cluster.now))
                    } else {
                        var heartbeat = Flotilla_V1_HeartbeatRequest()
                        heartbeat.workerID = worker.id.rawValue
                        heartbeat.running = cluster.state.runningJobs.compactMap { job in
                            guard let attempt = job.liveAttempt, attempt.workerID == worker.id else { return nil }
                            var running = Flotilla_V1_RunningAttempt()
                            running.jobID = job.id.rawValue
                            running.token = attempt.token.proto
                            running.step = job.step
                            running.state = attempt.state == .checkpointing ? .checkpointing : .running
                            return running
                        }
                        cluster.apply(.heartbeat(heartbeat, at: cluster.now))
                    }
                }
            }
            for command in planner.plan(cluster.state, now: cluster.now, leaderSince: 0) {
                let outcome = cluster.apply(command)
                if case .assign = command.kind {
                    #expect(outcome.rejection == nil, "seed \(seed) step \(step): refused assignment \(outcome.rejection!)")
                }
            }
            #expect(violations(cluster.state, submitted, &terminal).isEmpty,
                    "seed \(seed) step \(step): \(violations(cluster.state, submitted, &terminal))")
        }
        #expect(submitted.count > 50)
        #expect(terminal.values.contains(.succeeded))
    }

    func violations(_ state: CoordinatorState, _ submitted: [JobID], _ terminal: inout [JobID: JobState]) -> [String] {
        var problems: [String] = []
        var holders: [JobID: Set<WorkerID>] = [:]
        for worker in state.workers {
            let indices = Set(worker.gpus.map(\.index))
            if worker.allocations.count > worker.gpus.count { problems.append("\(worker.id) over-allocated") }
            for (index, job) in worker.allocations {
                if !indices.contains(index) { problems.append("\(worker.id) allocates missing GPU \(index)") }
                holders[job, default: []].insert(worker.id)
            }
        }
        for (job, workers) in holders where workers.count > 1 { problems.append("\(job) holds GPUs on \(workers)") }
        for id in submitted {
            guard let job = state.job(id) else {
                problems.append("\(id) vanished")
                continue
            }
            if let ended = terminal[id], ended != job.state { problems.append("\(id) left \(ended) for \(job.state)") }
            if job.isTerminal { terminal[id] = job.state }
            if (job.state == .running) != (holders[id] != nil) { problems.append("\(id) is \(job.state) but holders \(holders[id] ?? [])") }
            if let attempt = job.liveAttempt, attempt.gpuIndices.count != Int(job.spec.gpuCount) {
                problems.append("\(id) started on \(attempt.gpuIndices.count) of \(job.spec.gpuCount) GPUs")
            }
        }
        return problems
    }
}
