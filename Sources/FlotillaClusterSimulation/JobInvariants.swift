import FlotillaCoordinatorState
import FlotillaRaft

/// What the region promises about jobs, checked as entries apply and after every step:
/// - every replica that applied the same index holds an equal `CoordinatorState` (the same
///   sequence of commands, applied the same way, snapshots included);
/// - an acknowledged submission is in every state at or after its index, as the same job;
/// - no job ever has two live attempts, in any state or on the workers (two running copies);
/// - a job reaches one terminal state and never leaves it.
struct JobInvariants {
    /// The state's hash at each applied index, from the first replica that got there.
    var stateAt: [UInt64: Int] = [:]
    /// Idempotency key → the job its submission made, and the entry that made it.
    var acknowledged: [String: (job: JobID, index: UInt64)] = [:]
    /// Terminal state of each ended job, and the first index at which it was seen.
    var terminal: [JobID: (state: JobState, index: UInt64)] = [:]

    mutating func acknowledge(key: String, job: JobID, index: UInt64) throws(SimulationFailureBox) {
        if let earlier = acknowledged[key], earlier.job != job {
            throw SimulationFailureBox("submission \(key) was acknowledged as \(earlier.job) and then as \(job)")
        }
        acknowledged[key] = (job, index)
    }

    /// After `coordinator` handled a Ready.
    mutating func checkApplied(_ coordinator: SimulatedCoordinator, touched: [(index: UInt64, job: JobID, state: JobState, liveAttempts: Int)])
        throws(SimulationFailureBox) {
        for change in touched {
            if change.liveAttempts > 1 {
                throw SimulationFailureBox("\(coordinator.id): job \(change.job) has \(change.liveAttempts) live attempts at \(change.index)")
            }
            if let ended = terminal[change.job] {
                if change.state.isTerminal, change.state != ended.state {
                    throw SimulationFailureBox("job \(change.job) ended \(ended.state) and \(change.state) (\(coordinator.id) at \(change.index))")
                }
                if !change.state.isTerminal, change.index >= ended.index {
                    throw SimulationFailureBox("job \(change.job) left \(ended.state) for \(change.state) (\(coordinator.id) at \(change.index))")
                }
            } else if change.state.isTerminal {
                terminal[change.job] = (change.state, change.index)
            }
        }
        let state = coordinator.state
        let index = state.lastAppliedIndex
        // Hashing a whole state is most of a run's cost: compare at every fourth index (a
        // Ready ends at a random one), and the final states whole.
        guard index > 0, index % 4 == 0 else { return }
        let hash = state.hashValue
        if let known = stateAt[index] {
            if known != hash { throw SimulationFailureBox("\(coordinator.id)'s state at \(index) differs from another replica's") }
            return
        }
        stateAt[index] = hash
        // First to reach this index: every acknowledged submission up to here must be in it.
        try checkAcknowledged(in: state, of: coordinator.id)
    }

    func checkAcknowledged(in state: CoordinatorState, of id: NodeID) throws(SimulationFailureBox) {
        for (key, ack) in acknowledged where ack.index <= state.lastAppliedIndex {
            guard let job = state.job(idempotencyKey: key, tenant: "") else {
                throw SimulationFailureBox("acknowledged submission \(key) (\(ack.job) at \(ack.index)) is missing on \(id) at \(state.lastAppliedIndex)")
            }
            if job.id != ack.job {
                throw SimulationFailureBox("acknowledged submission \(key) is \(job.id) on \(id), not \(ack.job)")
            }
        }
    }

    /// The world: no job runs on two workers at once, and no GPU holds two attempts.
    func checkWorkers(_ workers: [SimulatedWorker]) throws(SimulationFailureBox) {
        var runningOn: [String: String] = [:]
        for worker in workers {
            for jobID in worker.liveAttempts.keys {
                if let other = runningOn[jobID] {
                    throw SimulationFailureBox("job \(jobID) runs on \(other) and \(worker.name) at once")
                }
                runningOn[jobID] = worker.name
            }
        }
    }
}
