import FlotillaCoordinatorState
import FlotillaProto
@testable import FlotillaScheduler
import Testing

@Suite struct FairShareTests {
    /// Every tier always has work waiting; each round every running job
    /// finishes and the scheduler fills 10 GPUs again. Over 1,000 starts the
    /// tiers get 6:3:1.
    @Test func weightsAreObservedOverManyRounds() {
        var cluster = SchedulingCluster { $0.agingIntervalMs = 0; $0.preemption.enabled = false }
        _ = cluster.worker("w1", gpus: 10)
        var started: [Flotilla_V1_Tier: Int] = [:]
        for _ in 0..<100 {
            for tier in [Flotilla_V1_Tier.premium, .standard, .free] {
                let waiting = cluster.state.queuedJobs.count { $0.spec.tier == tier }
                for _ in waiting..<12 { cluster.submit(tier: tier) }
            }
            let decision = cluster.round()
            #expect(decision.placements.count == 10)
            for placement in decision.placements {
                started[cluster.state.job(placement.jobID)!.spec.tier, default: 0] += 1
                cluster.finish(placement.jobID, .succeeded)
            }
            cluster.advance(1_000)
        }
        #expect((580...620).contains(started[.premium] ?? 0), "premium \(started)")
        #expect((280...320).contains(started[.standard] ?? 0), "standard \(started)")
        #expect((80...120).contains(started[.free] ?? 0), "free \(started)")
    }

    /// One GPU frees per round: premium floods, yet free still gets about a
    /// tenth (the share is kept in the replicated state, not per round).
    @Test func aFloodOfPremiumDoesNotStarveFree() {
        var cluster = SchedulingCluster { $0.agingIntervalMs = 0; $0.preemption.enabled = false }
        _ = cluster.worker("w1", gpus: 1)
        var freeStarts = 0
        for _ in 0..<100 {
            if cluster.state.queuedJobs.count(where: { $0.spec.tier == .premium }) < 3 { cluster.submit(tier: .premium) }
            if cluster.state.queuedJobs.count(where: { $0.spec.tier == .free }) < 3 { cluster.submit(tier: .free) }
            let decision = cluster.round()
            for placement in decision.placements {
                if cluster.state.job(placement.jobID)!.spec.tier == .free { freeStarts += 1 }
                cluster.finish(placement.jobID, .succeeded)
            }
        }
        // premium:free weights 6:1 -> one in seven.
        #expect((12...16).contains(freeStarts), "free started \(freeStarts) times in 100")
    }

    @Test func agingLiftsAStarvedFreeJob() {
        for aging in [UInt64(0), 300_000] {
            var cluster = SchedulingCluster { $0.agingIntervalMs = aging; $0.preemption.enabled = false; $0.reserveAfterMs = 0 }
            _ = cluster.worker("w1", gpus: 1)
            let free = cluster.job(tier: .free)
            cluster.advance(600_001)  // two aging intervals: free -> premium
            let premium = cluster.job(tier: .premium)
            let decision = cluster.decide()
            #expect(decision.placements.map(\.jobID) == [aging == 0 ? premium : free], "aging \(aging)")
        }
    }

    @Test func withinATierTenantsShareAndEachTenantIsFIFO() {
        var cluster = SchedulingCluster { $0.preemption.enabled = false }
        _ = cluster.worker("w1", gpus: 4)
        let a1 = cluster.job(tenant: "a"), a2 = cluster.job(tenant: "a"), a3 = cluster.job(tenant: "a")
        let b1 = cluster.job(tenant: "b"), b2 = cluster.job(tenant: "b")
        let started = Set(cluster.decide().placements.map(\.jobID))
        // Two each, and each tenant's oldest first.
        #expect(started == [a1, a2, b1, b2])
        #expect(!started.contains(a3))
    }

    @Test func aRequeuedJobKeepsItsPlace() {
        var cluster = SchedulingCluster { $0.preemption.enabled = false }
        let w1 = cluster.worker("w1", gpus: 1)
        let first = cluster.job()
        cluster.round()
        let second = cluster.job()
        // Its worker is lost: not the job's fault, so it goes before the newer one.
        cluster.apply(.lost(w1, lastHeartbeatAt: cluster.state.worker(w1)!.lastHeartbeatAt, reason: "test", at: cluster.now))
        _ = cluster.worker("w2", gpus: 1)
        #expect(cluster.decide().placements.map(\.jobID) == [first])
        #expect(cluster.state.job(second)!.state == .queued)
    }
}
