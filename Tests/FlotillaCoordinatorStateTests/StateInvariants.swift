import FlotillaCoordinatorState

/// The invariants `apply` must keep after every entry, and what must never
/// change between two states of the same log.
struct StateInvariants {
    /// Terminal job states and ended attempts seen so far: they are final.
    private var terminal: [JobID: JobState] = [:]
    private var endedAttempts: [JobID: [Int: Attempt]] = [:]
    /// Every job seen in the previous state, with its state then.
    private var seen: [JobID: JobState] = [:]

    /// Problems with `state`, empty when it is sound.
    mutating func violations(in state: CoordinatorState) -> [String] {
        var problems: [String] = []
        var held: [WorkerID: [UInt32: JobID]] = [:]
        for job in state.jobs {
            let live = job.attempts.indices.filter { job.attempts[$0].isLive }
            if live.count > 1 { problems.append("\(job.id) has \(live.count) live attempts") }
            if let index = live.first, index != job.attempts.count - 1 { problems.append("\(job.id): a live attempt is not its last") }
            if (job.state == .running) != !live.isEmpty { problems.append("\(job.id) is \(job.state) with \(live.count) live attempts") }
            for (offset, attempt) in job.attempts.enumerated() where attempt.number != offset + 1 {
                problems.append("\(job.id) attempt \(offset + 1) is numbered \(attempt.number)")
            }
            if let attempt = job.liveAttempt {
                guard let worker = state.worker(attempt.workerID) else {
                    problems.append("\(job.id) runs on unknown \(attempt.workerID)")
                    continue
                }
                if worker.state == .lost { problems.append("\(job.id) runs on lost \(worker.id)") }
                for index in attempt.gpuIndices {
                    if held[worker.id, default: [:]][index] != nil { problems.append("GPU \(index) of \(worker.id) held twice") }
                    held[worker.id, default: [:]][index] = job.id
                }
            }

            if let final = terminal[job.id], final != job.state { problems.append("\(job.id) left terminal \(final) for \(job.state)") }
            if job.isTerminal { terminal[job.id] = job.state }
            for (offset, previous) in endedAttempts[job.id, default: [:]] {
                guard offset < job.attempts.count else { problems.append("\(job.id) lost attempt records"); continue }
                let now = job.attempts[offset]
                // A LOST attempt may be reclaimed by its worker while the job waits; nothing else ever changes.
                let reclaimed = previous.state == .lost && now.isLive && offset == job.attempts.count - 1
                if now != previous && !reclaimed { problems.append("\(job.id) ended attempt \(offset + 1) changed") }
            }
            endedAttempts[job.id] = Dictionary(uniqueKeysWithValues: job.attempts.enumerated().filter { !$0.element.isLive }.map { ($0.offset, $0.element) })
        }
        for worker in state.workers {
            let indices = Set(worker.gpus.map(\.index))
            if worker.allocations.count > worker.gpus.count || !worker.allocations.keys.allSatisfy(indices.contains) {
                problems.append("\(worker.id) is over-allocated: \(worker.allocations) of \(indices.sorted())")
            }
            if worker.allocations != held[worker.id, default: [:]] {
                problems.append("\(worker.id) allocations \(worker.allocations) disagree with live attempts \(held[worker.id, default: [:]])")
            }
        }
        // Only retention removes jobs, only terminal ones, and it remembers them.
        var present: [JobID: JobState] = [:]
        for job in state.jobs { present[job.id] = job.state }
        for (id, was) in seen where present[id] == nil {
            if !was.isTerminal { problems.append("\(id) vanished while \(was)") }
            if state.removal(of: id) == nil { problems.append("\(id) vanished with no removal record") }
            terminal[id] = nil
            endedAttempts[id] = nil
        }
        seen = present
        for jobState in JobState.allCases where state.jobCount(in: jobState) != state.jobs.count(where: { $0.state == jobState }) {
            problems.append("the \(jobState) count \(state.jobCount(in: jobState)) disagrees with the jobs")
        }
        if state.terminalJobCount != state.jobs.count(where: \.isTerminal) { problems.append("terminal count disagrees") }
        let queued = state.jobs.filter { $0.state == .queued }.map(\.id)
        if state.queuedJobs.map(\.id) != queued { problems.append("queue \(state.queuedJobs.map(\.id)) is not the queued jobs \(queued)") }
        return problems
    }
}
