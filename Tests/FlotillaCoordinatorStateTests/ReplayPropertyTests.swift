import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTestSupport
import Testing

/// The issue's property: over random logs, replay is deterministic and a
/// snapshot plus the rest of the log equals the whole log; the invariants
/// hold after every entry.
@Suite struct ReplayPropertyTests {
    static let sequencesPerShard = 25
    static let commandsPerSequence = 300

    static func randomLog(seed: UInt64) -> (log: [LogEntryRecord], written: CoordinatorState) {
        var workload = RandomWorkload(seed: seed)
        while workload.cluster.entries.count < commandsPerSequence { _ = workload.step() }
        return (workload.cluster.entries, workload.cluster.state)
    }

    static func replay(_ entries: some Sequence<LogEntryRecord>, onto start: CoordinatorState = CoordinatorState())
        -> (CoordinatorState, [CommandOutcome]) {
        var state = start
        let outcomes = entries.map { state.apply($0) }
        return (state, outcomes)
    }

    /// Where two states part, in a line rather than two whole dumps.
    static func difference(_ a: CoordinatorState, _ b: CoordinatorState) -> String {
        let (left, right) = (a.snapshot(), b.snapshot())
        for (l, r) in zip(left.jobs, right.jobs) where l != r { return "job \(l.id): \(l) versus \(r)" }
        for (l, r) in zip(left.workers, right.workers) where l != r { return "worker \(l.id): \(l) versus \(r)" }
        if left != right { return "counts, tenants or the header differ" }
        return "the records agree; derived data (queue, allocations, keys) differs"
    }

    @Test(arguments: 0..<8)
    func replayingAnyLogGivesTheSameStateAndSnapshotPlusSuffixEqualsFullReplay(shard: UInt64) throws {
        for sequence in 0..<UInt64(Self.sequencesPerShard) {
            let seed = shard &* 1_000 &+ sequence
            let (log, written) = Self.randomLog(seed: seed)

            // First replay, entry by entry, checking the invariants after each.
            var first = CoordinatorState()
            var firstOutcomes: [CommandOutcome] = []
            var invariants = StateInvariants()
            for entry in log {
                firstOutcomes.append(first.apply(entry))
                let problems = invariants.violations(in: first)
                guard problems.isEmpty else {
                    Issue.record("seed \(seed), entry \(entry.index) \(entry.command.kind.map { "\($0)" } ?? "-"): \(problems.prefix(3))")
                    return
                }
            }
            let (second, secondOutcomes) = Self.replay(log)
            guard first == written, first == second, firstOutcomes == secondOutcomes else {
                Issue.record("seed \(seed): replays differ: \(Self.difference(first, first == written ? second : written))")
                return
            }

            var rng = SplitMix64(seed: ~seed)
            let cut = Int.random(in: 0...log.count, using: &rng)
            let (prefix, _) = Self.replay(log[..<cut])
            let restored = try CoordinatorState(snapshotBytes: try prefix.snapshotBytes())
            guard restored == prefix else {
                Issue.record("seed \(seed): the snapshot at \(cut) restores another state: \(Self.difference(prefix, restored))")
                return
            }
            let (resumed, suffixOutcomes) = Self.replay(log[cut...], onto: restored)
            guard resumed == first, suffixOutcomes == Array(firstOutcomes[cut...]) else {
                Issue.record("seed \(seed): snapshot at \(cut) + suffix differs from the full replay: \(Self.difference(first, resumed))")
                return
            }
            #expect(try resumed.snapshotBytes() == (try first.snapshotBytes()), "seed \(seed): encoded snapshots differ")
            #expect(resumed.lastAppliedIndex == UInt64(log.count))
        }
    }

    /// The workload reaches the interesting states, so the property is not vacuous.
    @Test func theRandomWorkloadCoversTheStateSpace() {
        var jobStates = Set<JobState>()
        var attemptStates = Set<AttemptState>()
        var workerStates = Set<WorkerState>()
        var accepted = 0, rejected = 0, duplicates = 0, directives = 0
        for seed in 0..<UInt64(20) {
            let (log, _) = Self.randomLog(seed: seed)
            var state = CoordinatorState()
            for entry in log {
                let outcome = state.apply(entry)
                if outcome.isAccepted { accepted += 1 } else { rejected += 1 }
                if outcome.duplicate { duplicates += 1 }
                directives += outcome.directives.count
                for job in state.runningJobs + state.queuedJobs {
                    attemptStates.formUnion(job.attempts.map(\.state))
                }
                workerStates.formUnion(state.workers.map(\.state))
            }
            for job in state.jobs {
                jobStates.insert(job.state)
                attemptStates.formUnion(job.attempts.map(\.state))
            }
        }
        #expect(jobStates == Set(JobState.allCases))
        #expect(attemptStates == Set(AttemptState.allCases))
        #expect(workerStates == Set(WorkerState.allCases))
        #expect(accepted > rejected && rejected > 0 && duplicates > 0 && directives > 0, "accepted \(accepted), rejected \(rejected), duplicates \(duplicates), directives \(directives)")
    }
}
