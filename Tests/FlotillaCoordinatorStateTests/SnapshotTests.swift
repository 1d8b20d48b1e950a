import FlotillaCoordinatorState
import FlotillaProto
import Testing

@Suite struct SnapshotTests {
    /// A state with something of everything: running, queued, finished and
    /// cancelled jobs, a checkpoint, a lost, a draining and a suspect worker, a tenant.
    static func busyCluster() -> Cluster {
        var cluster = Cluster()
        cluster.apply(.termStarted(leader: "c1", at: cluster.now))
        var tenant = Flotilla_V1_TenantQuota()
        tenant.tenant = "acme"
        tenant.maxGpus = 8
        cluster.apply(.setTenant(tenant, at: cluster.now))
        let w1 = cluster.worker("w1", gpus: 2, labels: ["zone": "a"])
        let w2 = cluster.worker("w2", gpus: 2)
        let w3 = cluster.worker("w3")
        let running = cluster.job(jobSpec(key: "k1"))
        let moved = cluster.job()
        let done = cluster.job()
        let cancelled = cluster.job()
        _ = cluster.job(jobSpec(gpus: 2))
        cluster.assign(running, to: w1)
        cluster.progress(running, step: 12)
        cluster.checkpoint(running, step: 10)
        cluster.assign(moved, to: w2)
        cluster.checkpoint(moved, step: 20)
        cluster.markLost(w2)
        cluster.assign(done, to: w1, gpus: [1])
        cluster.finish(done, .succeeded)
        cluster.apply(.cancelJob(cancelled, at: cluster.now))
        cluster.apply(.drain(w1, reason: "maintenance", at: cluster.now))
        cluster.apply(.suspect(w3, lastHeartbeatAt: cluster.state.worker(w3)!.lastHeartbeatAt, at: cluster.now))
        return cluster
    }

    @Test func aSnapshotRestoresAnEqualStateThatGoesOnTheSame() throws {
        var cluster = Self.busyCluster()
        let bytes = try cluster.state.snapshotBytes()
        var restored = try CoordinatorState(snapshotBytes: bytes)
        #expect(restored == cluster.state)
        #expect(try restored.snapshotBytes() == bytes)
        #expect(restored.snapshot().lastAppliedIndex == cluster.entries.last?.index)

        cluster.advance(1_000)
        let next = LogEntryRecord(index: cluster.state.lastAppliedIndex + 1, term: 2,
                                  command: .submitJob(jobSpec(key: "k1"), at: cluster.now))
        #expect(restored.apply(next) == cluster.state.apply(next))
        #expect(restored == cluster.state)
    }

    @Test func entriesAlreadyInTheSnapshotAreSkippedAndAGapIsRefused() throws {
        let cluster = Self.busyCluster()
        var restored = try CoordinatorState(snapshot: cluster.state.snapshot())
        let outcome = restored.apply(cluster.entries[3])
        #expect(outcome.duplicate && restored == cluster.state)
        let gap = LogEntryRecord(index: restored.lastAppliedIndex + 2, term: 1, command: .termStarted(leader: "x", at: 0))
        #expect(restored.apply(gap).rejection != nil && restored == cluster.state)
    }

    @Test func aContradictorySnapshotIsRefused() throws {
        let snapshot = Self.busyCluster().state.snapshot()

        var queuedButLive = snapshot
        queuedButLive.jobs[0].state = .queued
        #expect(throws: SnapshotError.self) { try CoordinatorState(snapshot: queuedButLive) }

        var doubleBooked = snapshot
        doubleBooked.jobs[4].state = .running
        var attempt = doubleBooked.jobs[0].attempts[0]
        attempt.token.attempt = 1
        doubleBooked.jobs[4].attempts = [attempt]
        #expect(throws: SnapshotError.self) { try CoordinatorState(snapshot: doubleBooked) }

        var unknownState = snapshot
        unknownState.workers[0].state = .unspecified
        #expect(throws: SnapshotError.self) { try CoordinatorState(snapshot: unknownState) }

        var wrongDrain = snapshot
        wrongDrain.workers[0].draining = false
        #expect(throws: SnapshotError.self) { try CoordinatorState(snapshot: wrongDrain) }

        #expect(throws: (any Error).self) { try CoordinatorState(snapshotBytes: [0xFF, 0xFF, 0xFF]) }
    }

    @Test func aLogEntryRoundTripsThroughItsPayload() throws {
        let cluster = Self.busyCluster()
        for entry in cluster.entries {
            let decoded = try LogEntryRecord(index: entry.index, term: entry.term, payload: try entry.payload())
            #expect(decoded == entry)
        }
    }
}
