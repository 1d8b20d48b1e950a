import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// Replicated coordinators recovering (issue 11): a leader stopped with SIGTERM hands
    /// over first, a whole group restarts intact, a follower far behind catches up by
    /// snapshot, and a leader frozen past its lease steps down and catches up.
    @Suite struct RaftRecoveryTests {
        static let zero = "[{name: zero, executor: simulated, default_steps: 0}]"

        static func submit(_ count: Int, prefix: String, _ client: ClusterClient) async throws -> [String] {
            var ids: [String] = []
            for number in 0..<count {
                var request = Flotilla_V1_SubmitJobRequest()
                request.spec = ClusterHarness.spec(model: "zero", key: "\(prefix)-\(number)")
                ids.append(try await client.request(request, expecting: Flotilla_V1_SubmitJobResponse.self).job.id)
            }
            return ids
        }

        /// Waits until every job succeeded, as the leader reports them.
        static func waitForSuccess(_ ids: [String], _ client: ClusterClient, timeout: Duration = .seconds(60)) async throws {
            let deadline = ContinuousClock.now + timeout
            var pending = ids
            while !pending.isEmpty {
                var still: [String] = []
                for id in pending where try await RaftFailoverTests.job(id, client).state != .succeeded { still.append(id) }
                pending = still
                guard !pending.isEmpty else { return }
                guard ContinuousClock.now < deadline else { throw ChildProcessError("jobs not finished: \(pending.prefix(5))") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        /// One gauge from a coordinator's /metrics.
        static func gauge(_ name: String, of coordinator: String, _ cluster: RaftClusterHarness) async -> Double? {
            guard let text = try? await httpGet(host: cluster.host(coordinator), port: cluster.httpPorts[coordinator]!, path: "/metrics").body else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
                return Double(line.split(separator: " ").last ?? "")
            }
            return nil
        }

        @Test("SIGTERM on the leader hands leadership over: no client request fails")
        func sigtermHandsOver() async throws {
            try await RaftClusterHarness.withCluster { cluster in
                try await cluster.startAll()
                let leader = try await cluster.waitForLeader()
                try await cluster.startWorker("w1", gpus: 4, models: Self.zero)
                let submitter = RaftFailoverTests.Submitter(client: try cluster.client(.client, "submitter"), model: "zero")
                try await Task.sleep(for: .milliseconds(500))
                let stopped = ContinuousClock.now
                cluster.coordinators[leader]!.signal(SIGTERM)
                let next = try await cluster.waitForLeader(excluding: leader, timeout: .seconds(5))
                let took = ContinuousClock.now - stopped
                #expect(await cluster.coordinators[leader]!.waitForExit(timeout: .seconds(10)))
                #expect(cluster.coordinators[leader]!.output.contains("leadership handed over before stopping"))
                try await Task.sleep(for: .milliseconds(500))
                let (acknowledged, conflicts, failures) = await submitter.stop()
                #expect(failures == 0, "\(failures) submissions failed during the handover")
                #expect(conflicts.isEmpty)
                #expect(acknowledged.count >= 5)
                print("SIGTERM handover: \(leader) -> \(next) seen after \(took); \(acknowledged.count) submissions, \(failures) failed")
            }
        }

        @Test("restarting every coordinator keeps every job")
        func restartAll() async throws {
            try await RaftClusterHarness.withCluster { cluster in
                try await cluster.startAll()
                _ = try await cluster.waitForLeader()
                try await cluster.startWorker("w1", gpus: 2, models: Self.zero)
                let client = try cluster.client()
                let ids = try await Self.submit(20, prefix: "before", client)
                try await Self.waitForSuccess(ids, client)
                await client.close()
                for name in cluster.names { await cluster.kill(name) }
                try await cluster.startAll()
                _ = try await cluster.waitForLeader()
                let after = try cluster.client()
                try await Self.waitForSuccess(ids, after, timeout: .seconds(10))
                // And it keeps working: new jobs run on the worker, which found the new leader.
                try await Self.waitForSuccess(try await Self.submit(3, prefix: "after", after), after)
                await after.close()
            }
        }

        @Test("a follower that missed compacted entries catches up by snapshot, and can lead")
        func snapshotCatchUp() async throws {
            try await RaftClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = ["raft.snapshot_every": "10"]
                try await cluster.startAll()
                let leader = try await cluster.waitForLeader()
                try await cluster.startWorker("w1", gpus: 4, models: Self.zero)
                let behind = cluster.names.first { $0 != leader }!
                await cluster.kill(behind)
                let client = try cluster.client()
                let ids = try await Self.submit(80, prefix: "missed", client)
                try await Self.waitForSuccess(ids, client)
                let leaderSnapshot = await Self.gauge("flotilla_raft_snapshot_index", of: leader, cluster) ?? 0
                #expect(leaderSnapshot > 0, "the leader never compacted its log")
                try await cluster.startCoordinator(behind)
                try await cluster.coordinators[behind]!.waitForOutput("installed the leader's snapshot", timeout: .seconds(20))
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline {
                    let commit = await Self.gauge("flotilla_raft_commit_index", of: leader, cluster) ?? 0
                    let applied = await Self.gauge("flotilla_raft_applied_index", of: behind, cluster) ?? 0
                    if applied >= commit, commit > 0 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                // It now leads with every job.
                let admin = try await cluster.connect(to: leader)
                var transfer = Flotilla_V1_RaftTransferLeadershipRequest()
                transfer.to = behind
                let moved = try await admin.request(transfer, expecting: Flotilla_V1_RaftTransferLeadershipResponse.self)
                #expect(moved.leader == behind)
                await admin.close()
                #expect(try await cluster.waitForLeader() == behind)
                try await Self.waitForSuccess(ids, client, timeout: .seconds(10))
                await client.close()
            }
        }

        @Test("a leader frozen past its lease is replaced, then rejoins as a follower and catches up")
        func frozenLeaderRejoins() async throws {
            try await RaftClusterHarness.withCluster { cluster in
                try await cluster.startAll()
                let old = try await cluster.waitForLeader()
                try await cluster.startWorker("w1", gpus: 2, models: Self.zero)
                cluster.coordinators[old]!.signal(SIGSTOP)
                let new = try await cluster.waitForLeader(excluding: old)
                let client = try cluster.client()
                let ids = try await Self.submit(10, prefix: "while-frozen", client)
                try await Self.waitForSuccess(ids, client)
                cluster.coordinators[old]!.signal(SIGCONT)
                let deadline = ContinuousClock.now + .seconds(20)
                var caughtUp = false
                while ContinuousClock.now < deadline, !caughtUp {
                    let said = await cluster.readiness(old) ?? ""
                    let commit = await Self.gauge("flotilla_raft_commit_index", of: new, cluster) ?? 0
                    let applied = await Self.gauge("flotilla_raft_applied_index", of: old, cluster) ?? 0
                    caughtUp = said.hasPrefix("follower of \(new)") && applied >= commit
                    if !caughtUp { try await Task.sleep(for: .milliseconds(50)) }
                }
                let readiness = await cluster.describeReadiness()
                #expect(caughtUp, "\(old) did not rejoin: \(readiness)")
                #expect(await cluster.leaders() == [new])
                await client.close()
            }
        }
    }
}
