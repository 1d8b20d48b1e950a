import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import Testing

@Suite struct PlannerTests {
    let planner = CoordinatorPlanner(placement: Scheduler())

    /// What the planner would propose now, leader since `leaderSince`.
    func proposals(_ cluster: Cluster, leaderSince: UInt64 = 0) -> [Flotilla_V1_Command.OneOf_Kind] {
        planner.plan(cluster.state, now: cluster.now, leaderSince: leaderSince).compactMap(\.kind)
    }

    @Test func fifoPlacementFitsGPUCountTypeModelAndLabels() {
        var cluster = Cluster()
        let small = cluster.worker("small", gpus: 1, type: "A100")
        let big = cluster.worker("big", gpus: 4, type: "H100", models: ["mochi-1", "open-sora"], labels: ["zone": "a"])
        let needsFour = cluster.job(jobSpec(gpus: 4))
        let needsH100 = cluster.job(jobSpec(gpus: 1, type: "h100"))
        let needsSora = cluster.job(jobSpec(model: "open-sora"))
        let any = cluster.job(jobSpec())
        let plan = planner.plan(cluster.state, now: cluster.now, leaderSince: 0)
        let placements = plan.compactMap { command -> (String, String, [UInt32])? in
            guard case .assign(let assign) = command.kind else { return nil }
            return (assign.jobID, assign.workerID, assign.gpuIndices)
        }
        // The 4-GPU job takes the big worker whole; the H100 and open-sora jobs must wait for it.
        #expect(placements.map(\.0) == [needsFour.rawValue, any.rawValue])
        #expect(placements[0].1 == big.rawValue && placements[0].2 == [0, 1, 2, 3])
        #expect(placements[1].1 == small.rawValue)
        for command in plan { #expect(cluster.apply(command).isAccepted) }
        #expect(cluster.state.queuedJobs.map(\.id) == [needsH100, needsSora])
    }

    @Test func aDrainingWorkerGetsNoNewWork() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1", gpus: 8)
        cluster.apply(.drain(w1, reason: "maintenance", at: cluster.now))
        _ = cluster.job()
        #expect(proposals(cluster).isEmpty)
        let w2 = cluster.worker("w2")
        cluster.plan()
        #expect(cluster.state.runningJobs.first?.liveAttempt?.workerID == w2)
    }

    @Test func aWorkerIsSuspectAfterTwoMissedHeartbeatsAndLostAfterTheTimeout() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let job = cluster.job()
        cluster.plan()
        cluster.checkpoint(job, step: 30)
        let start = cluster.state.worker(w1)!.lastHeartbeatAt

        cluster.now = start + 10_000
        #expect(proposals(cluster).isEmpty)
        cluster.now = start + 10_001
        cluster.plan()
        #expect(cluster.state.worker(w1)?.state == .suspect)
        cluster.now = start + 15_000
        #expect(proposals(cluster).isEmpty)
        cluster.now = start + 15_001
        cluster.plan()
        #expect(cluster.state.worker(w1)?.state == .lost)
        #expect(cluster.state.job(job)?.state == .queued)

        // It comes back after its job was requeued and nobody else took it: it keeps it.
        var back = registration("w1")
        back.running = [Flotilla_V1_RunningAttempt.with {
            $0.jobID = job.rawValue; $0.token = cluster.token(job).proto; $0.step = 31; $0.state = .running
        }]
        #expect(cluster.register(back).stopAttempts.isEmpty)
        #expect(cluster.state.job(job)?.state == .running)
    }

    @Test func nothingIsMarkedLostOrStalledBeforeTheRestartGracePasses() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let w2 = cluster.worker("w2")
        let job = cluster.job()
        cluster.assign(job, to: w1)
        // The coordinator was down for ten minutes and has just restarted.
        cluster.advance(600_000)
        let restart = cluster.now
        cluster.apply(.termStarted(leader: "c1", at: restart))
        #expect(cluster.state.leaderSince == restart)

        cluster.now = restart + 14_999
        #expect(proposals(cluster, leaderSince: restart).isEmpty)

        // w2 reconnects within the grace; w1 never does.
        cluster.heartbeat(w2)
        cluster.now = restart + 15_001
        let plan = proposals(cluster, leaderSince: restart)
        #expect(plan.count == 1)
        guard case .lost(let lost) = plan.first else { Issue.record("expected w1 lost, got \(plan)"); return }
        #expect(lost.workerID == w1.rawValue)
    }

    @Test func duringTheGraceOnlyWorkersHeardFromSinceTheRestartGetWork() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let w2 = cluster.worker("w2")
        cluster.advance(60_000)
        let restart = cluster.now
        cluster.heartbeat(w2)
        _ = cluster.job()
        cluster.plan(leaderSince: restart)
        #expect(cluster.state.runningJobs.first?.liveAttempt?.workerID == w2)
        _ = cluster.job()
        cluster.plan(leaderSince: restart)
        #expect(cluster.state.queuedJobs.count == 1)
        cluster.now = restart + 15_001
        cluster.heartbeat(w1)
        cluster.heartbeat(w2)
        cluster.plan(leaderSince: restart)
        #expect(cluster.state.queuedJobs.isEmpty)
    }

    @Test func aStalledJobIsCheckpointedAndReassignedElsewhere() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let job = cluster.job()
        cluster.plan()
        let w2 = cluster.worker("w2")
        cluster.progress(job, step: 10)
        cluster.checkpoint(job, step: 10)
        let stalledSince = cluster.now
        // Heartbeats keep both workers alive; the job makes no progress.
        for _ in 0..<12 {
            cluster.advance(5_000)
            cluster.heartbeat(w1, running: [cluster.running(job, step: 10)])
            cluster.heartbeat(w2)
        }
        cluster.now = stalledSince + 60_000
        #expect(proposals(cluster).isEmpty)
        cluster.now = stalledSince + 60_001
        let asked = cluster.plan()
        #expect(asked.flatMap(\.directives).map(\.workerID) == [w1])
        #expect(cluster.state.job(job)?.liveAttempt?.state == .checkpointing)

        // No checkpoint within the grace: stopped, requeued, placed on the other worker.
        cluster.advance(UInt64(planner.health.checkpointGraceMs))
        cluster.heartbeat(w1)
        cluster.heartbeat(w2)
        let stopped = cluster.plan()
        #expect(stopped.count == 1 && stopped.allSatisfy { $0.isAccepted })
        #expect(cluster.state.job(job)?.state == .queued)
        let placed = cluster.plan()
        #expect(placed.count == 1 && placed.allSatisfy { $0.isAccepted })
        let attempts = cluster.state.job(job)!.attempts
        #expect(attempts.map(\.state) == [.preempted, .assigned])
        #expect(attempts.last?.workerID == w2 && attempts.last?.resumedFromStep == 10)
    }

    @Test func theTenantsGPUQuotaHoldsWorkBack() {
        var cluster = Cluster()
        _ = cluster.worker("w1", gpus: 4)
        var tenant = Flotilla_V1_TenantQuota()
        tenant.tenant = "acme"
        tenant.maxGpus = 2
        cluster.apply(.setTenant(tenant, at: cluster.now))
        _ = cluster.job(jobSpec(gpus: 2))
        let second = cluster.job(jobSpec(gpus: 1))
        let other = cluster.job(jobSpec(tenant: "globex"))
        cluster.plan()
        #expect(cluster.state.queuedJobs.map(\.id) == [second])
        #expect(cluster.state.job(other)?.state == .running)
    }
}
