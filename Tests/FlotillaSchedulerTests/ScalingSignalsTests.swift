import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import Testing

/// A coordinator state built by applying log entries, each at a chosen time.
private struct ScalingTestCluster {
    var state = CoordinatorState()

    @discardableResult
    mutating func apply(_ command: Flotilla_V1_Command) -> CommandOutcome {
        let outcome = state.apply(LogEntryRecord(index: state.lastAppliedIndex + 1, term: 1, command: command))
        #expect(outcome.rejection == nil, "\(command) was rejected: \(String(describing: outcome.rejection))")
        return outcome
    }

    mutating func worker(_ name: String, gpus: Int, type: String, models: [String] = ["mochi-1"],
                         at: UInt64) -> WorkerID {
        var request = Flotilla_V1_RegisterWorkerRequest()
        request.name = name
        request.gpus = (0..<gpus).map { index in
            var gpu = Flotilla_V1_Gpu()
            gpu.index = UInt32(index)
            gpu.type = type
            gpu.memoryMib = 81_920
            return gpu
        }
        request.models = models
        return apply(.registerWorker(request, at: at)).workerID!
    }

    mutating func job(model: String = "mochi-1", tier: Flotilla_V1_Tier = .standard, type: String = "",
                      gpus: UInt32 = 1, at: UInt64) -> JobID {
        var spec = Flotilla_V1_JobSpec()
        spec.model = model
        spec.tier = tier
        spec.gpuType = type
        spec.gpuCount = gpus
        spec.tenant = "acme"
        spec.steps = 50
        return apply(.submitJob(spec, at: at)).jobID!
    }

    mutating func assign(_ job: JobID, to worker: WorkerID, gpus: [UInt32], at: UInt64) {
        var assign = Flotilla_V1_Command.AssignAttempt()
        assign.jobID = job.rawValue
        assign.workerID = worker.rawValue
        assign.gpuIndices = gpus
        var command = Flotilla_V1_Command()
        command.atUnixMs = at
        command.kind = .assign(assign)
        apply(command)
    }

    mutating func finish(_ job: JobID, _ state: Flotilla_V1_AttemptState, at: UInt64) {
        var result = Flotilla_V1_AttemptResult()
        result.jobID = job.rawValue
        result.token = self.state.job(job)!.currentAttempt!.token.proto
        result.state = state
        result.retryable = true
        result.error = "test"
        apply(.finish(result, at: at))
    }

    mutating func drain(_ worker: WorkerID, at: UInt64) {
        apply(.drain(worker, reason: "test", at: at))
    }

    mutating func lose(_ worker: WorkerID, at: UInt64) {
        apply(.lost(worker, lastHeartbeatAt: state.worker(worker)!.lastHeartbeatAt, reason: "test", at: at))
    }
}

private let t0: UInt64 = 1_800_000_000_000
private let second: UInt64 = 1000
private let minute: UInt64 = 60_000

@Suite struct ScalingSignalsTests {
    /// Six workers (H100 and h100, A100 and a100, a lost L4, a drained and a
    /// draining A100 worker) and nine jobs: seven queued (one requeued after a
    /// failed attempt), two running. Measured at t0 + 100 s.
    private static func mixedCluster() -> ScalingTestCluster {
        var cluster = ScalingTestCluster()
        let before = t0 - minute
        let a = cluster.worker("gpu-a", gpus: 4, type: "H100", models: ["mochi-1", "open-sora"], at: before)
        _ = cluster.worker("gpu-b", gpus: 2, type: "h100", models: ["mochi-1"], at: before)
        _ = cluster.worker("gpu-c", gpus: 2, type: "A100", models: ["llama"], at: before)
        let d = cluster.worker("gpu-d", gpus: 2, type: "L4", models: ["mochi-1"], at: before)
        let e = cluster.worker("gpu-e", gpus: 2, type: "A100", models: ["flux"], at: before)
        let f = cluster.worker("gpu-f", gpus: 2, type: "a100", models: ["llama"], at: before)
        cluster.lose(d, at: before + 1)
        cluster.drain(e, at: before + 2)

        let j1 = cluster.job(tier: .premium, at: t0)
        let j7 = cluster.job(tier: .premium, type: "H100", at: t0 + 1 * second)
        cluster.assign(j7, to: a, gpus: [1], at: t0 + 2 * second)
        let j8 = cluster.job(model: "llama", type: "A100", at: t0 + 3 * second)
        cluster.assign(j8, to: f, gpus: [0], at: t0 + 4 * second)
        let j6 = cluster.job(at: t0 + 5 * second)
        cluster.assign(j6, to: a, gpus: [0], at: t0 + 6 * second)
        let j2 = cluster.job(type: "H100", at: t0 + 10 * second)
        let j3 = cluster.job(model: "open-sora", tier: .free, type: "h100", at: t0 + 20 * second)
        let j4 = cluster.job(model: "llama", tier: .premium, type: "A100", at: t0 + 30 * second)
        let j5 = cluster.job(type: "B200", gpus: 2, at: t0 + 40 * second)
        cluster.finish(j6, .failed, at: t0 + 50 * second)
        cluster.drain(f, at: t0 + 60 * second)
        let j9 = cluster.job(model: "llama", tier: .free, at: t0 + 99 * second)

        #expect(cluster.state.job(j6)?.state == .queued)
        #expect(cluster.state.worker(f)?.state == .draining)
        #expect(cluster.state.worker(e)?.state == .drained)
        #expect(Set(cluster.state.queuedJobs.map(\.id)) == [j1, j2, j3, j4, j5, j6, j9])
        return cluster
    }

    @Test func queueDepthAndOldestWaitPerTier() {
        let signals = ScalingSignals.measure(Self.mixedCluster().state, now: t0 + 100 * second)
        #expect(signals.tiers[.premium] == ScalingSignals.Queue(queued: 2, oldestWaitMs: 100 * second))
        // j6 was requeued at t0 + 50 s: it has waited 50 s, not 95 s.
        #expect(signals.tiers[.standard] == ScalingSignals.Queue(queued: 3, oldestWaitMs: 90 * second))
        #expect(signals.tiers[.free] == ScalingSignals.Queue(queued: 2, oldestWaitMs: 80 * second))
        #expect(signals.tiers.count == 3)
    }

    @Test func queueDepthAndOldestWaitPerModel() {
        let signals = ScalingSignals.measure(Self.mixedCluster().state, now: t0 + 100 * second)
        #expect(signals.models == [
            "mochi-1": ScalingSignals.Queue(queued: 4, oldestWaitMs: 100 * second),
            "open-sora": ScalingSignals.Queue(queued: 1, oldestWaitMs: 80 * second),
            "llama": ScalingSignals.Queue(queued: 2, oldestWaitMs: 70 * second),
            // Served by the drained worker, nothing queued.
            "flux": ScalingSignals.Queue(queued: 0, oldestWaitMs: 0),
        ])
    }

    @Test func gpusPerTypeOnReadyAndDrainingWorkers() {
        let signals = ScalingSignals.measure(Self.mixedCluster().state, now: t0 + 100 * second)
        #expect(signals.gpuTypes == [
            // gpu-a (4, one held by j7) and gpu-b ("h100", 2); j6's GPU was freed when it failed.
            ScalingSignals.GPUUsage(gpuType: "H100", total: 6, allocated: 1),
            // gpu-c (2) and the draining gpu-f ("a100", 2, one held by j8); the drained gpu-e does not count.
            ScalingSignals.GPUUsage(gpuType: "A100", total: 4, allocated: 1),
            // Lost.
            ScalingSignals.GPUUsage(gpuType: "L4", total: 0, allocated: 0),
            // Asked for by j5 only.
            ScalingSignals.GPUUsage(gpuType: "B200", total: 0, allocated: 0),
        ])
        #expect(signals.usage(ofType: "h100") == ScalingSignals.GPUUsage(gpuType: "H100", total: 6, allocated: 1))
        #expect(signals.usage(ofType: "V100") == nil)
    }

    @Test func queuedJobsPerRequestedGPUType() {
        let signals = ScalingSignals.measure(Self.mixedCluster().state, now: t0 + 100 * second)
        #expect(signals.demand == [
            ScalingSignals.Demand(gpuType: "any", queued: 3, gpusRequested: 3, oldestWaitMs: 100 * second,
                                  waitsMs: [100 * second, 50 * second, 1 * second]),
            ScalingSignals.Demand(gpuType: "H100", queued: 2, gpusRequested: 2, oldestWaitMs: 90 * second,
                                  waitsMs: [90 * second, 80 * second]),
            ScalingSignals.Demand(gpuType: "A100", queued: 1, gpusRequested: 1, oldestWaitMs: 70 * second,
                                  waitsMs: [70 * second]),
            ScalingSignals.Demand(gpuType: "B200", queued: 1, gpusRequested: 2, oldestWaitMs: 60 * second,
                                  waitsMs: [60 * second]),
        ])
        #expect(signals.demand(forType: "")?.queued == 3)
        #expect(signals.demand(forType: "h100")?.waiting(longerThan: 80 * second) == 1)
        #expect(signals.demand(forType: "any")?.waiting(longerThan: 50 * second) == 1)
    }

    @Test func recentStartsOfTheMixedCluster() {
        let signals = ScalingSignals.measure(Self.mixedCluster().state, now: t0 + 100 * second)
        // j7, j8 and j6's first attempt each waited 1 s.
        #expect(signals.recentStarts == 3)
        #expect(signals.p99QueueWaitMs == 1 * second)
        #expect(signals.p99QueueWaitMsByGPUType == ["H100": 1 * second, "A100": 1 * second])
    }

    @Test func p99IsTheNearestRankOverTwoHundredWaits() {
        var cluster = ScalingTestCluster()
        let worker = cluster.worker("big", gpus: 200, type: "H100", at: t0 - minute)
        let jobs = (0..<200).map { _ in cluster.job(at: t0) }
        // Job i waits i + 1 seconds, started in that order.
        for (i, job) in jobs.enumerated() {
            cluster.assign(job, to: worker, gpus: [UInt32(i)], at: t0 + UInt64(i + 1) * second)
        }
        let signals = ScalingSignals.measure(cluster.state, now: t0 + 300 * second)
        #expect(signals.recentStarts == 200)
        // Rank ceil(0.99 * 200) = 198.
        #expect(signals.p99QueueWaitMs == 198 * second)
        #expect(signals.p99QueueWaitMs(onType: "h100") == 198 * second)

        // 100 waits: rank 99.
        var small = ScalingTestCluster()
        let one = small.worker("small", gpus: 100, type: "A100", at: t0 - minute)
        let hundred = (0..<100).map { _ in small.job(at: t0) }
        for (i, job) in hundred.enumerated() {
            small.assign(job, to: one, gpus: [UInt32(i)], at: t0 + UInt64(i + 1) * second)
        }
        #expect(ScalingSignals.measure(small.state, now: t0 + 300 * second).p99QueueWaitMs == 99 * second)
    }

    @Test func p99CountsAttemptsStartedInTheLastTenMinutesFromWhenTheyWereQueued() {
        var cluster = ScalingTestCluster()
        let worker = cluster.worker("w", gpus: 4, type: "H100", at: t0 - 60 * minute)
        // Started long ago (a 9 minute wait), failed at t0, restarted 5 s later.
        let retried = cluster.job(at: t0 - 30 * minute)
        cluster.assign(retried, to: worker, gpus: [0], at: t0 - 21 * minute)
        cluster.finish(retried, .failed, at: t0)
        cluster.assign(retried, to: worker, gpus: [0], at: t0 + 5 * second)
        // Started exactly 10 minutes before `now` (counts) and 10 minutes and 1 ms before (does not).
        let edge = cluster.job(at: t0 - 10 * minute - 2 * second)
        cluster.assign(edge, to: worker, gpus: [1], at: t0 - 10 * minute + 5 * second)
        let older = cluster.job(at: t0 - 20 * minute)
        cluster.assign(older, to: worker, gpus: [2], at: t0 - 10 * minute + 5 * second - 1)

        let now = t0 + 5 * second
        let signals = ScalingSignals.measure(cluster.state, now: now)
        // The retry waited 5 s; `edge` 7 s; `older` is outside the window.
        #expect(signals.recentStarts == 2)
        #expect(signals.p99QueueWaitMs == 7 * second)
        #expect(ScalingSignals.measure(cluster.state, now: now + 1).recentStarts == 1)
        #expect(ScalingSignals.measure(cluster.state, now: now + 1).p99QueueWaitMs == 5 * second)
        #expect(ScalingSignals.measure(cluster.state, now: now + 11 * minute).p99QueueWaitMs == 0)
    }

    @Test func p99PerGPUTypeFollowsWhereTheAttemptsRan() {
        var cluster = ScalingTestCluster()
        let h100 = cluster.worker("h", gpus: 2, type: "H100", at: t0 - minute)
        let a100 = cluster.worker("a", gpus: 2, type: "A100", at: t0 - minute)
        let fast = cluster.job(at: t0)
        let slow = cluster.job(at: t0)
        cluster.assign(fast, to: h100, gpus: [0], at: t0 + 2 * second)
        cluster.assign(slow, to: a100, gpus: [1], at: t0 + 90 * second)
        let signals = ScalingSignals.measure(cluster.state, now: t0 + 100 * second)
        #expect(signals.p99QueueWaitMsByGPUType == ["H100": 2 * second, "A100": 90 * second])
        #expect(signals.p99QueueWaitMs == 90 * second)
    }

    @Test func waitsSaturateAtZero() {
        var cluster = ScalingTestCluster()
        _ = cluster.worker("w", gpus: 1, type: "H100", at: t0)
        _ = cluster.job(tier: .premium, at: t0 + minute)
        let signals = ScalingSignals.measure(cluster.state, now: t0)
        #expect(signals.tiers[.premium] == ScalingSignals.Queue(queued: 1, oldestWaitMs: 0))
    }

    @Test func emptyStateHasEveryTierAndNothingElse() {
        let signals = ScalingSignals.measure(CoordinatorState(), now: t0)
        #expect(signals.tiers == [.premium: .init(), .standard: .init(), .free: .init()])
        #expect(signals.models.isEmpty && signals.gpuTypes.isEmpty && signals.demand.isEmpty)
        #expect(signals.p99QueueWaitMs == 0 && signals.recentStarts == 0)
    }

    @Test func fillsTheClusterStatus() {
        let signals = ScalingSignals.measure(Self.mixedCluster().state, now: t0 + 100 * second)
        var response = Flotilla_V1_ClusterStatusResponse()
        signals.apply(to: &response)
        #expect(response.queues.map(\.tier) == [.premium, .standard, .free])
        #expect(response.queues.map(\.queued) == [2, 3, 2])
        #expect(response.queues.map(\.oldestWaitMs) == [100_000, 90_000, 80_000])
        #expect(response.modelQueues.map(\.model) == ["flux", "llama", "mochi-1", "open-sora"])
        #expect(response.modelQueues.map(\.queued) == [0, 2, 4, 1])
        #expect(response.modelQueues.map(\.oldestWaitMs) == [0, 70_000, 100_000, 80_000])
        #expect(response.gpuTypes.map(\.gpuType) == ["H100", "A100", "L4", "B200"])
        #expect(response.gpuTypes.map(\.total) == [6, 4, 0, 0])
        #expect(response.gpuTypes.map(\.allocated) == [1, 1, 0, 0])
        #expect(response.p99QueueWaitMs == 1000)
    }

    @Test func tenThousandQueuedJobs() {
        var cluster = ScalingTestCluster()
        _ = cluster.worker("w", gpus: 8, type: "H100", at: t0)
        for i in 0..<10_000 {
            _ = cluster.job(tier: [.premium, .standard, .free][i % 3], type: i % 2 == 0 ? "" : "H100",
                            at: t0 + UInt64(i))
        }
        let signals = ScalingSignals.measure(cluster.state, now: t0 + 20 * minute)
        #expect(signals.tiers[.premium]?.queued == 3334)
        #expect(signals.tiers[.premium]?.oldestWaitMs == 20 * minute)
        #expect(signals.demand(forType: "h100")?.queued == 5000)
        #expect(signals.demand(forType: "any")?.waiting(longerThan: 20 * minute - 100) == 50)
    }
}
