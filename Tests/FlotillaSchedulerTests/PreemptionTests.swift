import FlotillaCoordinatorState
import FlotillaProto
@testable import FlotillaScheduler
import Testing

@Suite struct PreemptionTests {
    /// A 4-GPU worker running: free (1 GPU, old), free (1 GPU, young), standard (2 GPUs).
    func fullWorker() -> (SchedulingCluster, oldFree: JobID, youngFree: JobID, standard: JobID) {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 4)
        let standard = cluster.job(gpus: 2, tier: .standard)
        let oldFree = cluster.job(tier: .free)
        cluster.round()
        cluster.advance(10_000)
        let youngFree = cluster.job(tier: .free)
        cluster.round()
        for job in [standard, oldFree, youngFree] {
            #expect(cluster.state.job(job)!.state == .running)
            cluster.started(job)
        }
        return (cluster, oldFree, youngFree, standard)
    }

    @Test func freeBeforeStandardYoungestFirst() {
        var (cluster, oldFree, youngFree, _) = fullWorker()
        let premium = cluster.job(tier: .premium)
        let decision = cluster.decide()
        #expect(decision.placements.isEmpty)
        #expect(decision.preemptions.map(\.victim) == [youngFree])
        #expect(decision.preemptions.first?.beneficiary == premium)
        _ = oldFree
    }

    @Test func theFewestVictimsThatFreeEnough() {
        var (cluster, oldFree, youngFree, standard) = fullWorker()
        _ = cluster.job(gpus: 2, tier: .premium)
        // Both free jobs (2 GPUs) rather than the standard one.
        #expect(Set(cluster.decide().preemptions.map(\.victim)) == [oldFree, youngFree])
        var big = fullWorker().0
        _ = big.job(gpus: 4, tier: .premium)
        #expect(Set(big.decide().preemptions.map(\.victim)) == [oldFree, youngFree, standard])
        _ = standard
    }

    @Test func victimsCheckpointThenThePremiumJobGetsTheirGPUs() {
        var (cluster, _, youngFree, _) = fullWorker()
        let premium = cluster.job(tier: .premium)
        cluster.round()
        let attempt = cluster.state.job(youngFree)!.currentAttempt!
        #expect(attempt.state == .checkpointing)
        #expect(attempt.checkpointReason == .preemption)
        #expect(attempt.checkpointDeadline == cluster.now + 60_000)
        // While it checkpoints, no second victim is chosen and a newcomer does not take the GPU.
        cluster.submit(tier: .free)
        let waiting = cluster.round()
        #expect(waiting.preemptions.isEmpty && waiting.placements.isEmpty)
        cluster.finish(youngFree, .preempted)
        let decision = cluster.round()
        #expect(decision.placements.map(\.jobID) == [premium])
        #expect(cluster.state.job(youngFree)!.state == .queued, "the victim is requeued to resume")
    }

    @Test func noJobIsPreemptedTwiceWithinTheWindow() {
        var (cluster, oldFree, youngFree, _) = fullWorker()
        _ = cluster.job(tier: .premium)
        cluster.round()
        cluster.finish(youngFree, .preempted)
        cluster.round()  // premium starts on youngFree's GPU
        // youngFree runs again once oldFree ends.
        cluster.finish(oldFree, .succeeded)
        cluster.round()
        #expect(cluster.state.job(youngFree)!.state == .running)
        cluster.started(youngFree)
        cluster.advance(60_000)
        _ = cluster.job(tier: .premium)
        // Only youngFree is free-tier now and it was preempted a minute ago: the standard job goes.
        let victims = cluster.decide().preemptions.map(\.victim)
        #expect(!victims.contains(youngFree))
        cluster.advance(600_000)
        #expect(cluster.decide().preemptions.map(\.victim) == [youngFree])
    }

    @Test func preemptionCanBeTurnedOffPerTierAndAltogether() {
        var (cluster, _, _, standard) = fullWorker()
        _ = cluster.job(gpus: 2, tier: .premium)
        cluster.scheduler.policy.preemption.preemptibleTiers = [.standard]
        #expect(cluster.decide().preemptions.map(\.victim) == [standard])
        cluster.scheduler.policy.preemption.preemptibleTiers = []
        #expect(cluster.decide().preemptions.isEmpty)
        cluster.scheduler.policy.preemption.preemptibleTiers = [.free, .standard]
        cluster.scheduler.policy.preemption.enabled = false
        #expect(cluster.decide().preemptions.isEmpty)
    }

    @Test func premiumAtItsShareDoesNotPreempt() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 10)
        for _ in 0..<6 { cluster.submit(tier: .premium) }
        for _ in 0..<4 { cluster.submit(tier: .free) }
        cluster.round()
        #expect(cluster.state.queuedJobs.isEmpty)
        _ = cluster.job(tier: .premium)
        // Premium holds 6 of 10 GPUs, its 6:3:1 share: the free jobs keep theirs.
        #expect(cluster.decide().preemptions.isEmpty)
    }
}
