import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import Testing

@Suite struct AttemptTests {
    @Test func anAssignmentCarriesAFencingTokenOfTermAndAttemptAndHoldsTheGPUs() {
        var cluster = Cluster()
        cluster.term = 7
        let worker = cluster.worker("w1", gpus: 4)
        let job = cluster.job(jobSpec(gpus: 2))
        let outcome = cluster.assign(job, to: worker, gpus: [1, 3])
        #expect(outcome.isAccepted)
        let assignment = outcome.directives.first!.directive.assign
        #expect(assignment.token == FencingToken(term: 7, attempt: 1).proto)
        #expect(assignment.gpuIndices == [1, 3] && assignment.model == "mochi-1" && !assignment.hasResumeFrom)
        #expect(cluster.state.job(job)?.state == .running)
        #expect(cluster.state.job(job)?.liveAttempt?.state == .assigned)
        #expect(cluster.state.worker(worker)?.allocations == [1: job, 3: job])
        #expect(cluster.state.queuedJobs.isEmpty)
    }

    @Test func anAssignmentThatDoesNotFitIsRefused() {
        var cluster = Cluster()
        let worker = cluster.worker("w1", gpus: 2, type: "A100")
        let job = cluster.job(jobSpec(gpus: 2))
        #expect(cluster.assign(job, to: worker, gpus: [0]).rejection?.code == .failedPrecondition)
        #expect(cluster.assign(job, to: worker, gpus: [0, 0]).rejection != nil)
        #expect(cluster.assign(job, to: worker, gpus: [0, 5]).rejection != nil)
        #expect(cluster.assign(job, to: "worker-99", gpus: [0, 1]).rejection?.code == .notFound)
        let typed = cluster.job(jobSpec(gpus: 1, type: "H100"))
        #expect(cluster.assign(typed, to: worker).rejection != nil)
        let labelled = cluster.job(jobSpec(labels: ["zone": "a"]))
        #expect(cluster.assign(labelled, to: worker).rejection != nil)
        #expect(cluster.assign(job, to: worker, gpus: [0, 1]).isAccepted)
        // Held GPUs and a job already running.
        #expect(cluster.assign(job, to: worker, gpus: [0, 1]).rejection != nil)
        let next = cluster.job(jobSpec(gpus: 1))
        #expect(cluster.assign(next, to: worker, gpus: [1]).rejection != nil)
        #expect(cluster.state.job(job)?.attempts.count == 1)
    }

    @Test func progressMovesTheAttemptToRunningAndAdvancesTheStallTimer() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: worker)
        cluster.advance(1_000)
        #expect(cluster.progress(job, step: 10).isAccepted)
        #expect(cluster.state.job(job)?.liveAttempt?.state == .running)
        #expect(cluster.state.job(job)?.step == 10)
        #expect(cluster.state.job(job)?.lastProgressAt == cluster.now)
        cluster.advance(1_000)
        let same = cluster.progress(job, step: 10)
        #expect(same.isAccepted && same.duplicate)
        #expect(cluster.state.job(job)?.lastProgressAt == cluster.now - 1_000)
    }

    @Test func reportsFromASupersededTokenAreRejectedAndTheWorkerToldToStop() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let w2 = cluster.worker("w2")
        let job = cluster.job()
        cluster.assign(job, to: w1)
        let old = cluster.token(job)
        cluster.markLost(w1)
        cluster.assign(job, to: w2)
        let current = cluster.token(job)
        #expect(old < current)

        let before = cluster.state.job(job)
        for outcome in [cluster.progress(job, token: old, step: 40), cluster.checkpoint(job, token: old, step: 40),
                        cluster.finish(job, token: old, .succeeded)] {
            #expect(!outcome.reportAck.accepted && outcome.reportAck.stopAttempt)
        }
        #expect(cluster.state.job(job) == before)

        // The current attempt still reports normally.
        #expect(cluster.progress(job, token: current, step: 5).reportAck.accepted)
    }

    @Test func aTokenNewerThanAnyKnownIsRejectedWithoutStopping() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: worker)
        let ack = cluster.progress(job, token: FencingToken(term: 1, attempt: 2), step: 1).reportAck
        #expect(!ack.accepted && !ack.stopAttempt)
        let unknown = cluster.progress("job-404", token: FencingToken(term: 1, attempt: 1), step: 1).reportAck
        #expect(!unknown.accepted && unknown.stopAttempt)
    }

    @Test func aFailedRetryableAttemptIsRetriedUpToMaxAttemptsThenTheJobFails() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job(jobSpec(maxAttempts: 3))
        for attempt in 1...3 {
            #expect(cluster.state.job(job)?.state == .queued)
            cluster.assign(job, to: worker)
            #expect(cluster.token(job).attempt == UInt32(attempt))
            cluster.finish(job, .failed, error: "CUDA error \(attempt)")
        }
        let failed = cluster.state.job(job)!
        #expect(failed.state == .failed)
        #expect(failed.error == "failed after 3 attempts: CUDA error 3")
        #expect(failed.attempts.map(\.state) == [.failed, .failed, .failed])
        #expect(cluster.assign(job, to: worker).rejection != nil)
    }

    @Test func aNonRetryableFailureFailsTheJobAtOnce() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: worker)
        cluster.finish(job, .failed, retryable: false, error: "bad params")
        #expect(cluster.state.job(job)?.state == .failed)
        #expect(cluster.state.job(job)?.error == "bad params")
        #expect(cluster.state.worker(worker)?.gpusAllocated == 0)
    }

    @Test func aJobReachesExactlyOneTerminalStateAndStaysThere() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: worker)
        let token = cluster.token(job)
        cluster.finish(job, .succeeded)
        #expect(cluster.state.job(job)?.state == .succeeded)

        // A resent result is accepted and changes nothing; anything else is refused.
        #expect(cluster.finish(job, token: token, .succeeded).duplicate)
        #expect(cluster.finish(job, token: token, .failed).reportAck.stopAttempt)
        #expect(cluster.progress(job, token: token, step: 49).reportAck.stopAttempt)
        #expect(cluster.apply(.cancelJob(job, at: cluster.now)).rejection?.code == .failedPrecondition)
        #expect(cluster.assign(job, to: worker).rejection != nil)
        #expect(cluster.state.job(job)?.state == .succeeded)
        #expect(cluster.state.job(job)?.attempts.count == 1)
    }

    @Test func theNewestCheckpointWinsAndTheNextAttemptResumesFromIt() {
        var cluster = Cluster()
        let w1 = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: w1)
        cluster.checkpoint(job, step: 10)
        cluster.checkpoint(job, step: 30)
        #expect(cluster.checkpoint(job, step: 20).duplicate)
        #expect(cluster.state.job(job)?.latestCheckpoint?.step == 30)
        cluster.finish(job, .preempted)
        let resumed = cluster.assign(job, to: w1)
        #expect(resumed.directives.first?.directive.assign.resumeFrom.step == 30)
        #expect(cluster.state.job(job)?.liveAttempt?.resumedFromStep == 30)
        #expect(cluster.state.job(job)?.step == 30)
        // A preemption does not use up an attempt.
        #expect(cluster.state.job(job)?.consumedAttempts == 0)
    }

    @Test func aCheckpointReportMustBeWholeAndMatchItsToken() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: worker)
        var report = Flotilla_V1_CheckpointReport()
        report.token = cluster.token(job).proto
        report.checkpoint.jobID = job.rawValue
        report.checkpoint.attempt = 1
        report.checkpoint.step = 5
        report.checkpoint.uri = "file:///c"
        report.checkpoint.sizeBytes = 1
        report.checkpoint.sha256Hex = "not-a-digest"
        #expect(cluster.apply(.checkpoint(report, at: cluster.now)).rejection?.code == .invalidArgument)
        report.checkpoint.sha256Hex = String(repeating: "0", count: 64)
        report.checkpoint.attempt = 2
        #expect(cluster.apply(.checkpoint(report, at: cluster.now)).rejection?.code == .invalidArgument)
        report.checkpoint.attempt = 1
        #expect(cluster.apply(.checkpoint(report, at: cluster.now)).isAccepted)
        #expect(cluster.state.job(job)?.latestCheckpoint?.createdUnixMs == cluster.now)
    }

    @Test func anUnusableCheckpointIsForgottenAndDoesNotUseUpAnAttempt() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job(jobSpec(maxAttempts: 1))
        cluster.assign(job, to: worker)
        cluster.checkpoint(job, step: 30)
        cluster.finish(job, .preempted)
        cluster.assign(job, to: worker)
        cluster.finish(job, .failed, retryable: false, error: "checkpoint digest mismatch", checkpointUnusable: true)
        let requeued = cluster.state.job(job)!
        #expect(requeued.state == .queued && requeued.latestCheckpoint == nil && requeued.consumedAttempts == 0)
        let fresh = cluster.assign(job, to: worker)
        #expect(!fresh.directives.first!.directive.assign.hasResumeFrom)
    }

    @Test func aStalledAttemptIsAskedToCheckpointThenPreemptedAndThatUsesUpAnAttempt() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job(jobSpec(maxAttempts: 2))
        cluster.assign(job, to: worker)
        let token = cluster.token(job)
        let ask = cluster.apply(.requestCheckpoint(job, token: token, reason: .stall, graceMs: 5_000, at: cluster.now))
        #expect(ask.directives.first?.directive.checkpoint.token == token.proto)
        #expect(ask.directives.first?.directive.graceMs == 5_000)
        #expect(cluster.state.job(job)?.liveAttempt?.state == .checkpointing)
        #expect(cluster.state.job(job)?.liveAttempt?.checkpointDeadline == cluster.now + 5_000)

        let stop = cluster.apply(.preempt(job, token: token, reason: .stall, at: cluster.now))
        #expect(stop.directives.first?.directive.stop.token == token.proto)
        #expect(cluster.state.job(job)?.state == .queued)
        #expect(cluster.state.job(job)?.consumedAttempts == 1)
        // A stale proposal for an attempt that already ended is refused.
        #expect(cluster.apply(.preempt(job, token: token, reason: .stall, at: cluster.now)).rejection != nil)

        cluster.assign(job, to: worker)
        cluster.apply(.requestCheckpoint(job, token: cluster.token(job), reason: .stall, graceMs: 1, at: cluster.now))
        cluster.finish(job, .preempted)
        #expect(cluster.state.job(job)?.state == .failed)
    }
}

@Suite struct TotalityTests {
    /// Applying never traps: absurd times, steps, tokens and indices are applied or refused.
    @Test func absurdNumbersAreAppliedWithoutTrapping() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job()
        cluster.assign(job, to: worker)
        cluster.now = .max
        cluster.progress(job, step: .max, total: .max)
        cluster.apply(.requestCheckpoint(job, token: cluster.token(job), reason: .stall, graceMs: .max, at: .max))
        #expect(cluster.state.job(job)?.liveAttempt?.checkpointDeadline == .max)
        #expect(cluster.progress(job, token: FencingToken(term: .max, attempt: .max), step: 1).rejection != nil)
        cluster.heartbeat(worker)
        let planner = CoordinatorPlanner(health: HealthPolicy(heartbeatIntervalMs: .max, restartGraceMs: .max), placement: Scheduler())
        _ = planner.plan(cluster.state, now: .max, leaderSince: .max)
        _ = planner.plan(cluster.state, now: 0, leaderSince: .max)
        var state = cluster.state
        #expect(state.apply(LogEntryRecord(index: .max, term: .max, command: .termStarted(leader: "", at: .max))).rejection != nil)
        #expect(state == cluster.state)
    }
}
