import FlotillaCoordinatorState
import FlotillaProto
import Testing

@Suite struct WorkerTests {
    @Test func registeringAgainUnderTheSameNameKeepsTheId() {
        var cluster = Cluster()
        let first = cluster.worker("w1", gpus: 2)
        let other = cluster.worker("w2")
        let again = cluster.worker("w1", gpus: 4)
        #expect(first == again && first != other)
        #expect(cluster.state.worker(first)?.gpus.count == 4)
        #expect(cluster.state.worker(idOrName: "w1")?.id == first)
        #expect(cluster.state.workers.map(\.name) == ["w1", "w2"])
        #expect(cluster.register(registration("")).rejection?.code == .invalidArgument)
    }

    @Test func aLostWorkersJobsAreRequeuedToResumeFromTheirCheckpointStep() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let w2 = cluster.worker("w2")
        let job = cluster.job(jobSpec(maxAttempts: 1))
        cluster.assign(job, to: w1)
        cluster.progress(job, step: 34)
        cluster.checkpoint(job, step: 30)
        let lost = cluster.markLost(w1)
        #expect(lost.isAccepted)
        #expect(cluster.state.worker(w1)?.state == .lost)
        #expect(cluster.state.worker(w1)?.gpusAllocated == 0)
        let requeued = cluster.state.job(job)!
        #expect(requeued.state == .queued && requeued.currentAttempt?.state == .lost)
        // Not the job's fault: with max_attempts 1 it still runs again.
        #expect(requeued.consumedAttempts == 0)
        #expect(lost.jobChanges.contains { $0.message.contains("from checkpoint step 30") })

        let resumed = cluster.assign(job, to: w2)
        #expect(resumed.directives.first?.directive.assign.resumeFrom.step == 30)
        #expect(cluster.state.job(job)?.liveAttempt?.resumedFromStep == 30)
        #expect(cluster.assign(job, to: w1).rejection != nil)
    }

    @Test func aLostWorkerMustRegisterAgainAndItsOldAttemptIsStoppedOnceReplaced() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let w2 = cluster.worker("w2")
        let job = cluster.job()
        cluster.assign(job, to: w1)
        let old = cluster.running(job, step: 12)
        cluster.markLost(w1)
        cluster.assign(job, to: w2)

        #expect(cluster.heartbeat(w1, running: [old]).rejection?.code == .notFound)
        var back = registration("w1")
        back.running = [old]
        let outcome = cluster.register(back)
        #expect(outcome.workerID == w1)
        #expect(outcome.stopAttempts == [Flotilla_V1_FencingTokenForJob.with { $0.jobID = job.rawValue; $0.token = old.token }])
        #expect(cluster.state.worker(w1)?.state == .ready)
        #expect(cluster.state.job(job)?.liveAttempt?.workerID == w2)
    }

    @Test func aWorkerThatReconnectsBeforeItsJobMovedKeepsIt() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: w1)
        cluster.progress(job, step: 20)
        let token = cluster.token(job)
        let running = cluster.running(job, step: 25)
        cluster.markLost(w1)
        #expect(cluster.state.job(job)?.state == .queued)

        var back = registration("w1")
        back.running = [running]
        let outcome = cluster.register(back)
        #expect(outcome.stopAttempts.isEmpty)
        let kept = cluster.state.job(job)!
        #expect(kept.state == .running && kept.liveAttempt?.token == token && kept.step == 25)
        #expect(cluster.state.queuedJobs.isEmpty)
        #expect(cluster.state.worker(w1)?.allocations == [0: job])
    }

    @Test func aReportFromALostAttemptNobodyTookOverIsNotToldToStop() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: w1)
        let token = cluster.token(job)
        cluster.markLost(w1)
        // Back from a partition before the job moved: keep running, register again.
        let early = cluster.progress(job, token: token, step: 30)
        #expect(early.rejection?.stopAttempt == false)
        #expect(early.rejection?.message.contains("register again") == true)
        // Once another worker holds the job, the same report must stop the attempt.
        let w2 = cluster.worker("w2")
        cluster.assign(job, to: w2)
        let late = cluster.progress(job, token: token, step: 31)
        #expect(late.rejection?.stopAttempt == true)
    }

    @Test func reRegisteringWithoutAnAttemptLosesItAndRequeuesTheJob() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: w1)
        cluster.register(registration("w1"))
        #expect(cluster.state.job(job)?.state == .queued)
        #expect(cluster.state.job(job)?.currentAttempt?.state == .lost)
        #expect(cluster.state.worker(w1)?.gpusAllocated == 0)
    }

    @Test func aHeartbeatRestatesAttemptsAndStopsSupersededOnes() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1", gpus: 2)
        let job = cluster.job()
        cluster.assign(job, to: w1)
        var stale = cluster.running(job)
        stale.token.attempt = 0
        cluster.advance(5_000)
        let outcome = cluster.heartbeat(w1, running: [cluster.running(job, step: 3), stale])
        #expect(outcome.isAccepted)
        #expect(outcome.stopAttempts.map(\.token) == [stale.token])
        #expect(cluster.state.job(job)?.step == 3)
        #expect(cluster.state.job(job)?.liveAttempt?.state == .running)
        #expect(cluster.state.worker(w1)?.lastHeartbeatAt == cluster.now)
    }

    @Test func suspectAndLostMarksAreGuardedByTheHeartbeatTheProposerSaw() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let seen = cluster.state.worker(w1)!.lastHeartbeatAt
        cluster.advance(1_000)
        cluster.heartbeat(w1)
        #expect(cluster.apply(.suspect(w1, lastHeartbeatAt: seen, at: cluster.now)).rejection != nil)
        #expect(cluster.apply(.lost(w1, lastHeartbeatAt: seen, reason: "", at: cluster.now)).rejection != nil)
        #expect(cluster.state.worker(w1)?.state == .ready)

        let latest = cluster.state.worker(w1)!.lastHeartbeatAt
        #expect(cluster.apply(.suspect(w1, lastHeartbeatAt: latest, at: cluster.now)).isAccepted)
        #expect(cluster.state.worker(w1)?.state == .suspect)
        cluster.heartbeat(w1)
        #expect(cluster.state.worker(w1)?.state == .ready)
    }

    @Test func aDrainedWorkerFinishesItsJobsAndBecomesDrained() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1", gpus: 2)
        let job = cluster.job()
        let waiting = cluster.job()
        cluster.assign(job, to: w1)
        let drain = cluster.apply(.drain(w1, reason: "maintenance", at: cluster.now))
        #expect(drain.directives.map(\.workerID) == [w1] && drain.directives.first?.directive.drain != nil)
        #expect(cluster.state.worker(w1)?.state == .draining)
        #expect(cluster.apply(.drain(w1, reason: "again", at: cluster.now)).duplicate)
        #expect(cluster.assign(waiting, to: w1, gpus: [1]).rejection?.code == .failedPrecondition)
        // Its current job still reports and finishes.
        #expect(cluster.progress(job, step: 49).isAccepted)
        cluster.finish(job, .succeeded)
        #expect(cluster.state.worker(w1)?.state == .drained)
        #expect(cluster.state.job(job)?.state == .succeeded)
        // An operator's drain outlives a restart of the worker.
        cluster.register(registration("w1", gpus: 2))
        #expect(cluster.state.worker(w1)?.state == .drained)
    }

    @Test func aWorkersOwnDrainEndsWhenItRegistersAnew() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        cluster.heartbeat(w1, draining: true)
        #expect(cluster.state.worker(w1)?.state == .drained)
        #expect(!cluster.state.worker(w1)!.acceptsWork)
        cluster.register(registration("w1"))
        #expect(cluster.state.worker(w1)?.state == .ready)
    }

    @Test func workerInfoListsTheRunningAttempts() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1", gpus: 2)
        let job = cluster.job()
        cluster.assign(job, to: w1, gpus: [1])
        cluster.progress(job, step: 7)
        let info = cluster.state.workerInfo(w1)!
        #expect(info.state == .ready && info.gpusAllocated == 1 && info.gpus.count == 2)
        #expect(info.running.map(\.jobID) == [job.rawValue] && info.running.first?.step == 7)
        let summary = cluster.state.summary
        #expect(summary.workersReady == 1 && summary.gpusTotal == 2 && summary.gpusAllocated == 1 && summary.jobsRunning == 1)
    }
}
