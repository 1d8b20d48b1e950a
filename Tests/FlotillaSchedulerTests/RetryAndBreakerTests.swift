import FlotillaCoordinatorState
import FlotillaProto
@testable import FlotillaScheduler
import Testing

@Suite struct RetryAndBreakerTests {
    @Test func backoffDoublesUpToTheCapWithoutJitter() {
        var retry = RetryPolicy()
        retry.jitterPercent = 0
        let delays = (1...8).map { retry.delayMs(job: "job-1", failures: $0) }
        #expect(delays == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000])
        #expect(retry.delayMs(job: "job-1", failures: 0) == 0)
        #expect(retry.delayMs(job: "job-1", failures: 10_000) == 60_000)
    }

    @Test func jitterStaysWithinItsSpreadAndIsTheSameEveryTime() {
        let retry = RetryPolicy()
        var distinct = Set<UInt64>()
        for index in 0..<200 {
            let delay = retry.delayMs(job: JobID("job-\(index)"), failures: 3)
            #expect((3_200...4_800).contains(delay))
            #expect(delay == retry.delayMs(job: JobID("job-\(index)"), failures: 3))
            distinct.insert(delay)
        }
        #expect(distinct.count > 50, "jitter spreads retries")
    }

    @Test func aFailedJobWaitsItsBackoffBeforeItsNextAttempt() {
        var cluster = SchedulingCluster { $0.retry.jitterPercent = 0 }
        _ = cluster.worker("w1", gpus: 1)
        let job = cluster.job(maxAttempts: 3)
        cluster.round()
        cluster.finish(job, .failed)
        #expect(cluster.state.job(job)!.state == .queued)
        cluster.advance(999)
        #expect(cluster.round().placements.isEmpty)
        cluster.advance(1)
        #expect(cluster.round().placements.map(\.jobID) == [job])
        cluster.finish(job, .failed)
        cluster.advance(1_999)
        #expect(cluster.round().placements.isEmpty)
        cluster.advance(1)
        #expect(cluster.round().placements.map(\.jobID) == [job])
        cluster.finish(job, .failed)
        let failed = cluster.state.job(job)!
        #expect(failed.state == .failed)
        #expect(failed.error.contains("failed after 3 attempts"))
        #expect(failed.attempts.count == 3)
    }

    @Test func fiveModelFailuresOpenTheBreakerAndSubmissionsFailFast() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 8)
        for _ in 0..<5 {
            let job = cluster.job(maxAttempts: 1)
            cluster.round()
            cluster.finish(job, .failed, modelFault: true)
            cluster.advance(1_000)
        }
        let refused = cluster.submit().rejection
        #expect(refused?.code == .breakerOpen)
        #expect(refused?.retryAfterMs == 30_000 - 1_000)
        // Failures that are not the model's own do not count.
        var other = SchedulingCluster()
        _ = other.worker("w1", gpus: 8)
        for _ in 0..<6 {
            let job = other.job(maxAttempts: 1)
            other.round()
            other.finish(job, .failed, modelFault: false)
        }
        #expect(other.submit().rejection == nil)
    }

    func openBreaker(_ cluster: inout SchedulingCluster, model: String = "mochi-1") {
        cluster.apply(.breakerAction(model, .trip, at: cluster.now))
    }

    @Test func anOpenModelFallsBackWhenTheJobAllowsIt() {
        var cluster = SchedulingCluster()
        var policy = BreakerPolicy()
        policy.fallbacks = ["mochi-1": "open-sora"]
        cluster.apply(.configureBreakers(policy, at: cluster.now))
        _ = cluster.worker("mochi", gpus: 2, models: ["mochi-1"])
        let sora = cluster.worker("sora", gpus: 2, models: ["open-sora"])
        let queuedBefore = cluster.job(fallback: false)
        openBreaker(&cluster)
        #expect(cluster.submit(fallback: false).rejection?.code == .breakerOpen)
        let allowed = cluster.job(fallback: true)
        let decision = cluster.round()
        #expect(decision.placements.map(\.jobID) == [allowed])
        #expect(decision.placements.first?.model == "open-sora")
        #expect(decision.placements.first?.workerID == sora)
        let job = cluster.state.job(allowed)!
        #expect(job.fallbackUsed && job.modelUsed == "open-sora")
        // The job queued before without fallback waits; it is not failed.
        #expect(cluster.state.job(queuedBefore)!.state == .queued)
    }

    @Test func halfOpenAdmitsExactlyItsProbesThenClosesOnTheirSuccess() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 8)
        // Queued before the breaker opened: they wait, then the first three are the probes.
        cluster.scheduler.policy.preemption.enabled = false
        let queued = (0..<5).map { _ in cluster.job() }
        openBreaker(&cluster)
        cluster.advance(29_999)
        #expect(cluster.round().placements.isEmpty, "still OPEN at 29.999 s")
        cluster.advance(1)
        let probes = cluster.round().placements.map(\.jobID)
        #expect(probes == Array(queued.prefix(3)), "HALF_OPEN at 30 s admits exactly 3 probes")
        #expect(cluster.round().placements.isEmpty, "a 4th is not admitted")
        for probe in probes { cluster.finish(probe, .succeeded) }
        #expect(cluster.state.breaker("mochi-1").phase(at: cluster.now, policy: cluster.state.breakerPolicy) == .closed)
        #expect(cluster.round().placements.count == 2)
    }

    @Test func aFailedProbeReopensTheBreaker() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 8)
        for _ in 0..<3 { cluster.submit() }
        openBreaker(&cluster)
        cluster.advance(30_000)
        let probes = cluster.round().placements.map(\.jobID)
        cluster.finish(probes[0], .failed, modelFault: true)
        #expect(cluster.state.breaker("mochi-1").phase(at: cluster.now, policy: cluster.state.breakerPolicy) == .open)
        // A probe lost with its worker frees its slot instead of deciding.
        var lost = SchedulingCluster()
        let w1 = lost.worker("w1", gpus: 8)
        for _ in 0..<4 { lost.submit() }
        openBreaker(&lost)
        lost.advance(30_000)
        #expect(lost.round().placements.count == 3)
        lost.apply(.lost(w1, lastHeartbeatAt: lost.state.worker(w1)!.lastHeartbeatAt, reason: "test", at: lost.now))
        #expect(lost.state.breaker("mochi-1").probesAdmitted == 0)
    }
}
