import FlotillaCoordinatorState
import FlotillaProto
import Testing

/// PruneJobs: which terminal jobs go, judged from the entry alone; what a
/// removed job leaves behind (a removal record, a free idempotency key).
@Suite struct RetentionTests {
    /// Three jobs ended at now, now+1s and now+2s; one queued and one running.
    static func cluster() -> (Cluster, ended: [JobID], queued: JobID, running: JobID) {
        var cluster = Cluster()
        let worker = cluster.worker("w1", gpus: 1)
        var ended: [JobID] = []
        for _ in 0..<3 {
            let id = cluster.job()
            cluster.apply(.cancelJob(id, reason: "test", at: cluster.now))
            ended.append(id)
            cluster.advance(1_000)
        }
        let running = cluster.job()
        cluster.assign(running, to: worker)
        let queued = cluster.job()
        return (cluster, ended, queued, running)
    }

    @Test func terminalJobsEndedSinceATimeOldestFirstAndTheLatestFew() {
        let (cluster, ended, _, _) = Self.cluster()
        let start = cluster.now - 3_000
        #expect(cluster.state.terminalJobs(endedSince: start).map(\.id) == ended)
        #expect(cluster.state.terminalJobs(endedSince: start + 1).map(\.id) == Array(ended.suffix(2)))
        #expect(cluster.state.terminalJobs(endedSince: start, latest: 2).map(\.id) == Array(ended.suffix(2)))
        #expect(cluster.state.terminalJobs(endedSince: start, latest: 0).isEmpty)
    }

    @Test func removesTerminalJobsEndedBeforeTheCutoffOnly() {
        var (cluster, ended, queued, running) = Self.cluster()
        let start = cluster.now - 3_000
        cluster.advance(10_000)
        // The cutoff comes from the command, not from the entry time or a clock.
        let outcome = cluster.apply(.pruneJobs(olderThan: start + 1_500, maxTerminalJobs: 0, at: cluster.now))
        #expect(outcome.isAccepted)
        #expect(outcome.removedJobs == 2)
        #expect(cluster.state.job(ended[0]) == nil && cluster.state.job(ended[1]) == nil)
        #expect(cluster.state.job(ended[2]) != nil)
        #expect(cluster.state.job(queued)?.state == .queued && cluster.state.job(running)?.state == .running)
        #expect(cluster.state.removal(of: ended[0])?.removedAt == cluster.now)
        #expect(cluster.state.removal(of: ended[2]) == nil)
        #expect(cluster.state.terminalJobCount == 1)
        #expect(cluster.state.summary.jobsCancelled == 1)
    }

    @Test func theCapRemovesTheOldestEndedFirst() {
        var (cluster, ended, queued, running) = Self.cluster()
        let outcome = cluster.apply(.pruneJobs(olderThan: 0, maxTerminalJobs: 1, at: cluster.now))
        #expect(outcome.removedJobs == 2)
        #expect(cluster.state.jobs.map(\.id) == [ended[2], running, queued])
        // Nothing more to do: a repeat changes nothing.
        #expect(cluster.apply(.pruneJobs(olderThan: 0, maxTerminalJobs: 1, at: cluster.now)).removedJobs == 0)
    }

    @Test func aRemovedJobFreesItsIdempotencyKey() {
        var cluster = Cluster()
        _ = cluster.worker("w1")
        let first = cluster.submit(jobSpec(key: "nightly")).jobID!
        #expect(cluster.submit(jobSpec(key: "nightly")).duplicate)
        cluster.apply(.cancelJob(first, at: cluster.now))
        cluster.advance(5_000)
        cluster.apply(.pruneJobs(olderThan: cluster.now, maxTerminalJobs: 0, at: cluster.now))
        #expect(cluster.state.job(idempotencyKey: "nightly", tenant: "acme") == nil)
        let second = cluster.submit(jobSpec(key: "nightly"))
        #expect(!second.duplicate && second.jobID != first)
        #expect(cluster.state.job(idempotencyKey: "nightly", tenant: "acme")?.id == second.jobID)
    }

    @Test func listingOfLiveJobsIsUnaffected() {
        var (cluster, _, queued, running) = Self.cluster()
        let before = cluster.state.listJobs(JobListQuery(states: [.queued, .running]))
        cluster.apply(.pruneJobs(olderThan: cluster.now, maxTerminalJobs: 0, at: cluster.now))
        #expect(cluster.state.listJobs(JobListQuery(states: [.queued, .running])) == before)
        #expect(cluster.state.listJobs(JobListQuery()).jobs.map(\.id) == [queued, running])
    }

    @Test func pruningIsDeterministicAndSurvivesASnapshot() throws {
        var (cluster, ended, _, _) = Self.cluster()
        cluster.apply(.pruneJobs(olderThan: cluster.now - 1_500, maxTerminalJobs: 0, at: cluster.now))
        var replayed = CoordinatorState()
        for entry in cluster.entries { _ = replayed.apply(entry) }
        #expect(replayed == cluster.state)
        let restored = try CoordinatorState(snapshotBytes: try cluster.state.snapshotBytes())
        #expect(restored == cluster.state)
        #expect(restored.removal(of: ended[0])?.removedAt == cluster.now)
        #expect(try restored.snapshotBytes() == cluster.state.snapshotBytes())
    }

    @Test func thePolicyProposesOnlyWhenSomethingWouldGo() {
        var (cluster, _, _, _) = Self.cluster()
        let policy = RetentionPolicy(jobTTLMs: 60_000, maxTerminalJobs: 10, everyMs: 30_000)
        #expect(policy.command(for: cluster.state, now: cluster.now, lastPrunedAt: nil) == nil)
        let later = cluster.now + 61_000
        let command = policy.command(for: cluster.state, now: later, lastPrunedAt: nil)
        guard case .pruneJobs(let prune)? = command?.kind else {
            Issue.record("no PruneJobs proposed")
            return
        }
        #expect(prune.olderThanUnixMs == later - 60_000 && prune.maxTerminalJobs == 10)
        // Expired jobs wait for the interval; a cap overrun does not.
        #expect(policy.command(for: cluster.state, now: later, lastPrunedAt: later - 1_000) == nil)
        let capped = RetentionPolicy(jobTTLMs: 60_000, maxTerminalJobs: 2, everyMs: 30_000)
        #expect(capped.command(for: cluster.state, now: cluster.now, lastPrunedAt: cluster.now) != nil)
    }
}
