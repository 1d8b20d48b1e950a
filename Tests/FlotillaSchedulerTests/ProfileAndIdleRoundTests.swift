import FlotillaCoordinatorState
import FlotillaProto
@testable import FlotillaScheduler
import Testing

/// The cheap paths of an idle planner tick: signals from a kept profile, and
/// no scheduling round when nothing could be proposed.
@Suite struct ProfileAndIdleRoundTests {
    @Test func aKeptProfileGivesWhatAFreshMeasureGives() {
        var cluster = SchedulingCluster()
        let worker = cluster.worker("w1", gpus: 2)
        let running = cluster.job()
        cluster.advance(1_000)
        _ = cluster.round()
        cluster.advance(2_000)
        cluster.finish(running, .succeeded)
        for tier in [Flotilla_V1_Tier.premium, .standard, .free] { _ = cluster.job(tier: tier) }
        _ = worker
        let profile = ScalingSignals.Profile(cluster.state, now: cluster.now)
        #expect(profile.appliedIndex == cluster.state.lastAppliedIndex)
        let laters: [UInt64] = [0, 1_000, 5 * 60_000, 11 * 60_000]
        for later in laters {
            let at = cluster.now + later
            #expect(profile.signals(at: at) == ScalingSignals.measure(cluster.state, now: at), "at +\(later) ms")
        }
    }

    @Test func noFreeGPUAndNoPremiumWaitingProposesNothingWithoutARound() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 1)
        _ = cluster.job()
        _ = cluster.round()
        for _ in 0..<5 { _ = cluster.job(tier: .standard) }
        let workers = cluster.state.workers.filter(\.acceptsWork)
        #expect(!cluster.scheduler.mayAct(cluster.state, on: workers))
        #expect(cluster.scheduler.place(cluster.state, on: workers, now: cluster.now).isEmpty)
        // A premium job below premium's share may preempt even with nothing free: the round runs.
        _ = cluster.job(tier: .premium)
        #expect(cluster.scheduler.mayAct(cluster.state, on: workers) == cluster.scheduler.policy.preemption.enabled)
    }

    @Test func premiumAtItsShareDoesNotWakeTheRound() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 1)
        _ = cluster.job(tier: .premium)
        _ = cluster.round()
        _ = cluster.job(tier: .premium)
        let workers = cluster.state.workers.filter(\.acceptsWork)
        #expect(!cluster.scheduler.mayAct(cluster.state, on: workers))
        #expect(cluster.scheduler.decide(cluster.state, on: workers, now: cluster.now).preemptions.isEmpty)
    }
}
