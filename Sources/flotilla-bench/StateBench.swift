import ArgumentParser
import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import FlotillaTestSupport
import Foundation

/// The coordinator's state at scale, built through the real apply path:
/// 100,000 queued jobs, 50,000 terminal ones and a full fleet (no free GPU).
/// Times a ListJobs page at the start, middle and end of the list, and one
/// idle planner tick (plan + scaling sample), each beside the walk over every
/// job that the same answer cost before the indexes (the "scan" figures).
struct StateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "ListJobs pages and idle planner ticks with 100,000 queued jobs.")

    @Option(help: "Jobs queued.") var queued = 100_000
    @Option(help: "Jobs finished (cancelled).") var terminal = 50_000
    @Option(help: "Workers (8 GPUs each), all busy.") var workers = 100
    @Option(help: "Pages timed at each position.") var pages = 1_000
    @Option(help: "Planner ticks timed.") var ticks = 50

    func run() throws {
        var state = CoordinatorState()
        var index: UInt64 = 0
        let now: UInt64 = 1_000_000_000
        func apply(_ command: Flotilla_V1_Command) -> CommandOutcome {
            index += 1
            return state.apply(LogEntryRecord(index: index, term: 1, command: command))
        }
        let models = ["mochi-1", "open-sora", "sdxl"]
        func spec(_ n: Int) -> Flotilla_V1_JobSpec {
            var spec = Flotilla_V1_JobSpec()
            spec.model = models[n % 3]
            spec.tenant = "tenant-\(n % 20)"
            spec.tier = [.premium, .standard, .free][n % 3]
            spec.steps = 100
            return spec
        }
        let built = Measure.now()
        let residentBefore = try ProcessFacts.residentKiB(getpid())
        var workerIDs: [WorkerID] = []
        for worker in 0..<workers {
            var request = Flotilla_V1_RegisterWorkerRequest()
            request.name = "worker-\(worker)"
            request.gpus = (0..<8).map { gpuIndex in
                var gpu = Flotilla_V1_Gpu()
                gpu.index = UInt32(gpuIndex)
                gpu.type = "H100"
                return gpu
            }
            request.models = models
            workerIDs.append(apply(.registerWorker(request, at: now)).workerID!)
        }
        // The fleet runs premium work (premium at its share): nothing may preempt, nothing is free.
        for (position, worker) in workerIDs.enumerated() {
            for gpu in 0..<8 {
                var running = spec(position * 8 + gpu)
                running.tier = .premium
                let job = apply(.submitJob(running, at: now)).jobID!
                _ = apply(.assign(Placement(jobID: job, workerID: worker, gpuIndices: [UInt32(gpu)]), at: now))
            }
        }
        for n in 0..<terminal {
            let job = apply(.submitJob(spec(n), at: now)).jobID!
            _ = apply(.cancelJob(job, reason: "bench", at: now + UInt64(n)))
        }
        for n in 0..<queued { _ = apply(.submitJob(spec(n), at: now + UInt64(n))) }
        print("state: \(state.jobCount) jobs (\(queued) queued, \(terminal) terminal, \(workers * 8) running) "
              + "built in \(Int(Double(Measure.now() - built) / 1e6)) ms, \(index) entries")
        // What a second copy costs: the coordinator that plans also holds the projection of its log.
        let held = try ProcessFacts.residentKiB(getpid()) - residentBefore
        print("the state's resident memory: \(held / 1024) MiB, \(held * 1024 / max(1, state.jobCount)) bytes per job")

        // ListJobs, newest first, 100 a page, as the service asks.
        let sequences = state.jobs.map(\.sequence)
        let positions: [(String, UInt64)] = [
            ("start", .max), ("middle", sequences[sequences.count / 2]), ("end", sequences[150]),
        ]
        for (name, before) in positions {
            let indexed = time(pages) { _ = state.listJobs(JobListQuery(before: before, limit: 100)).jobs.map(\.proto) }
            let scanned = time(min(pages, 50)) { _ = Self.scanPage(state, before: before, limit: 100).map(\.proto) }
            print("ListJobs page (\(name)): p50 \(f(indexed, 0.5)) ms, max \(f(indexed, 1)) ms; "
                  + "scan p50 \(f(scanned, 0.5)) ms")
        }
        let queuedPage = time(pages) { _ = state.listJobs(JobListQuery(states: [.queued], tenant: "tenant-3", limit: 100)) }
        print("ListJobs page (QUEUED of one tenant): p50 \(f(queuedPage, 0.5)) ms, max \(f(queuedPage, 1)) ms")

        // One idle planner tick: nothing free, nothing changed.
        let planner = CoordinatorPlanner(placement: Scheduler())
        var profile = ScalingSignals.Profile(state, now: now)
        let tick = time(ticks) {
            _ = planner.plan(state, now: now + 200_000, leaderSince: now)
            if profile.appliedIndex != state.lastAppliedIndex { profile = ScalingSignals.Profile(state, now: now) }
            _ = profile.signals(at: now + 200_000)
        }
        let fullRound = time(min(ticks, 10)) {
            _ = Scheduler().decide(state, on: state.workers, now: now + 200_000)
            _ = ScalingSignals.measure(state, now: now + 200_000)
        }
        print("planner tick + scaling sample (idle): median \(f(tick, 0.5)) ms; "
              + "full scheduler round + measure (before): median \(f(fullRound, 0.5)) ms")
        let plan = time(ticks) { _ = planner.plan(state, now: now + 200_000, leaderSince: now) }
        let sample = time(ticks) { _ = profile.signals(at: now + 200_000) }
        let profiling = time(min(ticks, 10)) { _ = ScalingSignals.Profile(state, now: now) }
        print("  of which plan \(f(plan, 0.5)) ms, scaling sample from the kept profile \(f(sample, 0.5)) ms "
              + "(once a second; \(f(profiling, 0.5)) ms to build the profile after a change)")
        let summary = time(pages) { _ = state.summary }
        print("cluster summary: p50 \(f(summary, 0.5)) ms")
    }

    /// ListJobs as it was: newest first over every job, filtering each.
    static func scanPage(_ state: CoordinatorState, before: UInt64, limit: Int) -> [Job] {
        var page: [Job] = []
        for job in state.jobs.reversed() where job.sequence < before {
            if page.count == limit { break }
            page.append(job)
        }
        return page
    }

    private func time(_ times: Int, _ body: () -> Void) -> [UInt64] {
        (0..<times).map { _ in
            let start = Measure.now()
            body()
            return Measure.now() - start
        }.sorted()
    }

    private func f(_ sorted: [UInt64], _ p: Double) -> String {
        let value = p >= 1 ? Double(sorted.last ?? 0) / 1e6 : Measure.percentile(sorted, p)
        return value < 0.1 ? String(format: "%.4f", value) : String(format: "%.2f", value)
    }
}
