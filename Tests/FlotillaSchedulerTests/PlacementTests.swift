import FlotillaCoordinatorState
import FlotillaProto
@testable import FlotillaScheduler
import Testing

@Suite struct PlacementTests {
    @Test func aFourGPUJobNeverStartsOnThreeFreeGPUs() {
        var cluster = SchedulingCluster { $0.reserveAfterMs = 0 }
        let w1 = cluster.worker("w1", gpus: 4)
        _ = cluster.worker("w2", gpus: 2)
        let small = cluster.job(gpus: 1)
        assign(&cluster, small, to: w1, gpus: [0])
        let big = cluster.job(gpus: 4)
        // w1 has 3 free, w2 has 2: no partial start anywhere.
        for _ in 0..<5 { #expect(cluster.round().placements.isEmpty) }
        cluster.finish(small, .succeeded)
        let placement = cluster.placement(of: big, in: cluster.round())
        #expect(placement?.workerID == w1)
        #expect(placement?.gpuIndices == [0, 1, 2, 3])
    }

    @Test func bestFitChoosesTheTightestWorker() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("roomy", gpus: 8)
        let tight = cluster.worker("tight", gpus: 2)
        _ = cluster.worker("middle", gpus: 4)
        let job = cluster.job(gpus: 2)
        #expect(cluster.placement(of: job, in: cluster.decide())?.workerID == tight)
    }

    /// Places `job` by hand, so a test controls where earlier work runs.
    func assign(_ cluster: inout SchedulingCluster, _ job: JobID, to worker: WorkerID, gpus: [UInt32]) {
        let outcome = cluster.apply(.assign(Placement(jobID: job, workerID: worker, gpuIndices: gpus), at: cluster.now))
        #expect(outcome.rejection == nil)
    }

    @Test func modelAffinityBreaksAFitTie() {
        var cluster = SchedulingCluster()
        let a = cluster.worker("a", gpus: 4, models: ["mochi-1", "sdxl"])
        let b = cluster.worker("b", gpus: 4, models: ["mochi-1", "sdxl"])
        assign(&cluster, cluster.job(model: "mochi-1", tenant: "x"), to: a, gpus: [0])
        assign(&cluster, cluster.job(model: "sdxl", tenant: "y"), to: b, gpus: [0])
        // Both have 3 free; each new job goes where its model is loaded.
        var mochiFirst = cluster
        let sdxl = cluster.job(model: "sdxl", tenant: "z")
        #expect(cluster.placement(of: sdxl, in: cluster.decide())?.workerID == b)
        let mochi = mochiFirst.job(model: "mochi-1", tenant: "z")
        #expect(mochiFirst.placement(of: mochi, in: mochiFirst.decide())?.workerID == a)
    }

    @Test func aTenantsJobsSpreadWhenAllElseIsEqual() {
        var cluster = SchedulingCluster()
        let a = cluster.worker("a", gpus: 4)
        let b = cluster.worker("b", gpus: 4)
        assign(&cluster, cluster.job(tenant: "t"), to: a, gpus: [0])
        assign(&cluster, cluster.job(tenant: "u"), to: b, gpus: [0])
        let next = cluster.job(tenant: "t")
        #expect(cluster.placement(of: next, in: cluster.decide())?.workerID == b)
    }

    /// A stream of 1-GPU jobs keeps two 4-GPU workers busy; a 4-GPU job never
    /// fits without a reservation, and starts once it has waited past the
    /// threshold and a worker is kept for it.
    @Test func aReservationEndsLargeJobStarvation() {
        for reserveAfter in [UInt64(0), 60_000] {
            var cluster = SchedulingCluster { $0.reserveAfterMs = reserveAfter; $0.agingIntervalMs = 0 }
            _ = cluster.worker("a", gpus: 4)
            _ = cluster.worker("b", gpus: 4)
            var running: [JobID] = []
            for _ in 0..<8 { cluster.submit(tier: .premium) }
            running += cluster.round().placements.map(\.jobID)
            let big = cluster.job(gpus: 4, tier: .free)
            var bigStartedAt: Int?
            for second in 1...300 {
                cluster.advance(1_000)
                // The oldest small job ends each second and another arrives.
                cluster.finish(running.removeFirst(), .succeeded)
                cluster.submit(tier: .premium)
                let decision = cluster.round()
                running += decision.placements.map(\.jobID).filter { $0 != big }
                if cluster.state.job(big)!.state == .running { bigStartedAt = second; break }
            }
            if reserveAfter == 0 {
                #expect(bigStartedAt == nil, "without a reservation the large job starves")
            } else {
                #expect(bigStartedAt.map { (60...70).contains($0) } == true, "started at \(String(describing: bigStartedAt))")
            }
        }
    }

    /// A worker kept for a large job takes only jobs expected to end before
    /// it frees (from the observed milliseconds per step).
    @Test func aReservedWorkerBackfillsOnlyJobsThatEndBeforeItFrees() {
        var cluster = SchedulingCluster { $0.reserveAfterMs = 60_000; $0.preemption.enabled = false }
        let a = cluster.worker("a", gpus: 4)
        let running = (0..<3).map { _ in cluster.job() }
        cluster.round()
        let big = cluster.job(gpus: 4)
        cluster.advance(61_000)
        // 61 steps in 61 s: 1 s a step, 39 steps (39 s) to go.
        for job in running { cluster.started(job, step: 61) }
        let long = cluster.job(steps: 100)
        let short = cluster.job(steps: 10)
        let decision = cluster.decide()
        #expect(decision.reservations == [a: big])
        #expect(decision.placements.map(\.jobID) == [short])
        #expect(cluster.placement(of: long, in: decision) == nil)
    }
}
