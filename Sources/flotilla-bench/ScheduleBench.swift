import ArgumentParser
import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import FlotillaTestSupport

/// Scheduling rounds of the pure scheduler over a large state: 1,000 workers
/// (8 GPUs each, two GPU types, three models) and 10,000 queued jobs of every
/// tier and 20 tenants, kept at 10,000 as jobs start and finish. Prints
/// placement decisions per second and the time of one round.
struct ScheduleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Scheduling decisions per second with 10,000 queued jobs and 1,000 workers.")

    @Option(help: "Workers (8 GPUs each).") var workers = 1_000
    @Option(help: "Jobs kept queued.") var queued = 10_000
    @Option(help: "Rounds to time.") var rounds = 40

    func run() throws {
        var state = CoordinatorState()
        var index: UInt64 = 0
        var now: UInt64 = 1_000_000
        func apply(_ command: Flotilla_V1_Command) -> CommandOutcome {
            index += 1
            return state.apply(LogEntryRecord(index: index, term: 1, command: command))
        }
        var random = SplitMix64(seed: 7)
        let models = ["mochi-1", "open-sora", "sdxl"]
        for worker in 0..<workers {
            var request = Flotilla_V1_RegisterWorkerRequest()
            request.name = "worker-\(worker)"
            request.gpus = (0..<8).map { gpuIndex in
                var gpu = Flotilla_V1_Gpu()
                gpu.index = UInt32(gpuIndex)
                gpu.type = worker % 2 == 0 ? "H100" : "A100"
                return gpu
            }
            request.models = [models[worker % 3], models[(worker + 1) % 3]]
            _ = apply(.registerWorker(request, at: now))
        }
        let tiers: [Flotilla_V1_Tier] = [.premium, .standard, .standard, .free, .free, .free]
        func submit() {
            var spec = Flotilla_V1_JobSpec()
            spec.model = models[random.below(3)]
            spec.gpuCount = [1, 1, 1, 2, 2, 4, 8][random.below(7)]
            spec.gpuType = random.below(4) == 0 ? "H100" : ""
            spec.tier = tiers[random.below(tiers.count)]
            spec.tenant = "tenant-\(random.below(20))"
            spec.steps = 100
            _ = apply(.submitJob(spec, at: now))
        }
        for _ in 0..<queued { submit() }

        let scheduler = Scheduler()
        var decisions = 0
        var preemptions = 0
        var roundTimes: [Duration] = []
        let clock = ContinuousClock()
        for _ in 0..<rounds {
            now += 1_000
            let workersNow = state.workers.filter(\.acceptsWork)
            let started = clock.now
            let commands = scheduler.place(state, on: workersNow, now: now)
            roundTimes.append(clock.now - started)
            for command in commands {
                if case .requestCheckpoint = command.kind { preemptions += 1 } else { decisions += 1 }
                _ = apply(command)
            }
            // A tenth of the running jobs finish; the queue is topped up.
            let running = state.runningJobs
            for job in running where random.below(10) == 0 {
                guard let attempt = job.liveAttempt else { continue }
                var result = Flotilla_V1_AttemptResult()
                result.jobID = job.id.rawValue
                result.token = attempt.token.proto
                result.state = .succeeded
                _ = apply(.finish(result, at: now))
            }
            for _ in 0..<(queued - state.queuedJobs.count) { submit() }
        }
        let total = roundTimes.reduce(Duration.zero, +)
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        let sorted = roundTimes.sorted()
        func ms(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
        }
        print("schedule: \(workers) workers x 8 GPUs, \(queued) queued jobs, \(rounds) rounds")
        print(String(format: "placements: %d (+%d preemptions) in %.3f s of scheduling: %.0f decisions/s",
                     decisions, preemptions, seconds, Double(decisions + preemptions) / seconds))
        print(String(format: "round with %d queued: p50 %.1f ms, max %.1f ms",
                     queued, ms(sorted[sorted.count / 2]), ms(sorted.last!)))
    }
}
