import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// Replicated coordinators under a network partition (issue 11): each coordinator runs in
    /// its own network namespace behind a veth on a bridge the test creates; workers and the
    /// test's clients stay in the root namespace. Taking the leader's bridge port down cuts it
    /// from the other coordinators, the workers and the test at once, without a reset.
    @Suite struct RaftPartitionTests {
        /// 10 steps of 50 ms: jobs that are often running when the leader is cut off.
        static let short = "[{name: short, executor: simulated, step_duration: 50ms, default_steps: 10}]"

        /// How often `text` appears in what the child printed so far.
        static func occurrences(of text: String, in child: ChildProcess) -> Int {
            child.output.components(separatedBy: text).count - 1
        }

        /// Every job the coordinator at the other end holds (it must lead), oldest first.
        static func allJobs(_ connection: FlotillaConnection) async throws -> [Flotilla_V1_Job] {
            var jobs: [Flotilla_V1_Job] = []
            var request = Flotilla_V1_ListJobsRequest()
            request.limit = 1_000
            while true {
                let page = try await connection.request(request, expecting: Flotilla_V1_ListJobsResponse.self)
                jobs += page.jobs
                guard !page.nextPageToken.isEmpty, !page.jobs.isEmpty else { return jobs.reversed() }
                request.pageToken = page.nextPageToken
            }
        }

        /// What must be the same on every member that leads: a job's identity, state and attempts.
        static func digest(_ job: Flotilla_V1_Job) -> String {
            let attempts = job.attempts.map { "#\($0.number):\($0.state):\($0.workerID):\($0.token.term)" }.joined(separator: ",")
            return "\(job.spec.idempotencyKey)|\(job.state)|\(attempts)"
        }

        /// Waits until `follower` says it follows `leader` and has applied what `leader` has committed.
        static func waitForCatchUp(_ follower: String, of leader: String, _ cluster: RaftClusterHarness,
                                   timeout: Duration) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let said = await cluster.readiness(follower) ?? ""
                let commit = await RaftRecoveryTests.gauge("flotilla_raft_commit_index", of: leader, cluster) ?? 0
                let applied = await RaftRecoveryTests.gauge("flotilla_raft_applied_index", of: follower, cluster) ?? 0
                if said.hasPrefix("follower of \(leader)"), commit > 0, applied >= commit { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        static func waitUntil(_ timeout: Duration, _ condition: () async -> Bool) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if await condition() { return true }
                try? await Task.sleep(for: .milliseconds(25))
            }
            return await condition()
        }

        @Test("a leader cut off from the majority steps down; the majority elects another and keeps serving; healed, the old leader catches up without divergence",
              .enabled(if: NamespaceNetwork.isAvailable, "needs root and `ip netns` (network namespaces, veth, bridge)"))
        func leaderPartition() async throws {
            try await NamespaceNetwork.with(members: ["c1", "c2", "c3"]) { net in
                try await RaftClusterHarness.withCluster { cluster in
                    for name in cluster.names {
                        cluster.hosts[name] = net.address(name)
                        cluster.launchPrefix[name] = net.exec(name)
                    }
                    try await cluster.startAll()
                    let old = try await cluster.waitForLeader()
                    try await cluster.startWorker("w1", gpus: 4, models: Self.short)
                    try await cluster.startWorker("w2", gpus: 4, models: Self.short)
                    // Short timeouts, so that the submitter leaves the silent leader quickly: a try
                    // on a cut connection, or a connection to the cut address, gives up after 2 s.
                    var transport = TransportConfiguration()
                    transport.handshakeTimeout = .seconds(2)
                    let submitter = RaftFailoverTests.Submitter(
                        client: try cluster.client(.client, "submitter", configuration: transport), model: "short",
                        timeout: .seconds(2))
                    #expect(await Self.waitUntil(.seconds(20)) { submitter.acknowledgedCount >= 5 },
                            "the submitter got nothing acknowledged before the cut")
                    let termBefore = await RaftRecoveryTests.gauge("flotilla_raft_term", of: old, cluster) ?? 0

                    // The cut.
                    let oldChild = cluster.coordinators[old]!
                    let stepDownsBefore = Self.occurrences(of: "stepped down", in: oldChild)
                    let cutAt = ContinuousClock.now
                    try await net.cut(old)
                    cluster.unreachable.insert(old)

                    // A submission from inside the cut leader's namespace: the leader appends it
                    // (if it still leads when it arrives) but can never commit it, so it must fail,
                    // and the healed log must not hold it.
                    let tls = try cluster.pki.node(.admin, "operator")
                    let divergent = Task {
                        try await runProcess(
                            net.ip, arguments: ["netns", "exec", net.namespace(old), productURL("flotillactl").path,
                                                "jobs", "submit", "--model", "short", "--idempotency-key", "divergent-1",
                                                "--addr", cluster.address(old), "--timeout", "3",
                                                "--cacert", tls.caCertificate.path, "--cert", tls.certificate.path,
                                                "--key", tls.privateKey.path],
                            timeout: .seconds(8))
                    }

                    // The cut leader steps down (check-quorum), as its own log says.
                    let steppedDown = await Self.waitUntil(.seconds(10)) {
                        Self.occurrences(of: "stepped down", in: oldChild) > stepDownsBefore
                    }
                    let stepDown = ContinuousClock.now - cutAt
                    #expect(steppedDown, "\(old) did not step down within 10 s of the cut:\n\(oldChild.tail(40))")

                    // The other two elect a leader and keep serving.
                    let new = try await cluster.waitForLeader(excluding: old, timeout: .seconds(15))
                    let elected = ContinuousClock.now - cutAt
                    let acknowledgedAtElection = submitter.acknowledgedCount
                    let attempt = try await divergent.value
                    let served = await Self.waitUntil(.seconds(20)) { submitter.acknowledgedCount >= acknowledgedAtElection + 5 }
                    let servedWhileCut = submitter.acknowledgedCount - acknowledgedAtElection
                    #expect(served && servedWhileCut > 0,
                            "only \(servedWhileCut) submissions acknowledged by \(new) while \(old) was cut off")
                    #expect(attempt.status != 0 || attempt.timedOut,
                            "the cut-off leader acknowledged a submission it could not commit:\n\(attempt.stdout)\(attempt.stderr)")
                    let divergentAppended = (attempt.stdout + attempt.stderr).contains("leadership changed")
                    let termAtHeal = await RaftRecoveryTests.gauge("flotilla_raft_term", of: new, cluster) ?? 0

                    // The heal.
                    try await net.heal(old)
                    let healedAt = ContinuousClock.now
                    cluster.unreachable.remove(old)
                    let caughtUp = await Self.waitForCatchUp(old, of: new, cluster, timeout: .seconds(20))
                    let catchUp = ContinuousClock.now - healedAt
                    let readiness = await cluster.describeReadiness()
                    #expect(caughtUp, "\(old) did not rejoin as a follower of \(new) and catch up: \(readiness)")
                    // Pre-vote: the returning member did not disturb the leader.
                    #expect(await cluster.leaders() == [new], "leaders after the heal: \(readiness)")
                    let termAfter = await RaftRecoveryTests.gauge("flotilla_raft_term", of: new, cluster) ?? 0
                    #expect(termAfter == termAtHeal, "the heal cost an election: term \(termAtHeal) -> \(termAfter)")
                    #expect(termAtHeal > termBefore)

                    let (acknowledged, conflicts, failures) = await submitter.stop()
                    #expect(conflicts.isEmpty, "one idempotency key acknowledged as two jobs: \(conflicts)")
                    #expect(Set(acknowledged.values).count == acknowledged.count, "one job id acknowledged for two keys")

                    // Every acknowledged job runs to the end; no job ever had two live attempts.
                    let reader = try cluster.client()
                    try await RaftRecoveryTests.waitForSuccess(Array(acknowledged.values), reader, timeout: .seconds(30))
                    await reader.close()
                    #expect(await Self.waitForCatchUp(old, of: new, cluster, timeout: .seconds(10)))

                    // No divergence: the new leader's jobs and, after a transfer, the old leader's
                    // are the same, each acknowledged key once, with the acknowledged id.
                    let onNew = try await Self.jobsAsLeader(new, cluster)
                    let admin = try await cluster.connect(to: new)
                    var transfer = Flotilla_V1_RaftTransferLeadershipRequest()
                    transfer.to = old
                    let moved = try await admin.request(transfer, expecting: Flotilla_V1_RaftTransferLeadershipResponse.self)
                    await admin.close()
                    #expect(moved.leader == old)
                    #expect(try await cluster.waitForLeader(timeout: .seconds(10)) == old)
                    let onOld = try await Self.jobsAsLeader(old, cluster)

                    var multiAttempt = 0
                    for (label, jobs) in [(new, onNew), (old, onOld)] {
                        let byKey = Dictionary(grouping: jobs, by: { $0.spec.idempotencyKey })
                        #expect(Set(jobs.map(\.id)).count == jobs.count, "\(label) holds a job id twice")
                        #expect(byKey.values.allSatisfy { $0.count == 1 }, "\(label) holds a key as two jobs: \(byKey.filter { $0.value.count > 1 }.keys.sorted())")
                        #expect(byKey["divergent-1"] == nil, "\(label) holds the submission only the cut-off leader saw")
                        for (key, id) in acknowledged {
                            #expect(byKey[key]?.first?.id == id, "\(label): acknowledged \(key) as \(id), holds \(byKey[key]?.map(\.id) ?? [])")
                        }
                        for job in jobs {
                            let live = job.attempts.filter { [.assigned, .running, .checkpointing].contains($0.state) }
                            let succeeded = job.attempts.filter { $0.state == .succeeded }
                            #expect(live.isEmpty && succeeded.count == 1 && Set(job.attempts.map(\.number)).count == job.attempts.count,
                                    "\(label): \(job.id) attempts \(job.attempts.map { "#\($0.number) \($0.state) on \($0.workerID) [\($0.error)]" })")
                            if label == new, job.attempts.count > 1 { multiAttempt += 1 }
                        }
                    }
                    let digestsNew = Dictionary(uniqueKeysWithValues: onNew.map { ($0.id, Self.digest($0)) })
                    let digestsOld = Dictionary(uniqueKeysWithValues: onOld.map { ($0.id, Self.digest($0)) })
                    let differing = Set(digestsNew.keys).union(digestsOld.keys).filter { digestsNew[$0] != digestsOld[$0] }
                    #expect(differing.isEmpty, "\(old) and \(new) differ on \(differing.count) jobs: \(differing.sorted().prefix(5).map { "\($0): \(digestsNew[$0] ?? "absent") vs \(digestsOld[$0] ?? "absent")" })")

                    print("partition: \(old) cut; stepped down after \(stepDown), \(new) elected after \(elected); \(servedWhileCut) submissions acknowledged while cut; divergent entry appended on the cut leader: \(divergentAppended) (flotillactl exit \(attempt.status)); healed, caught up after \(catchUp); \(acknowledged.count) jobs acknowledged, \(failures) failed tries, \(multiAttempt) jobs with more than one attempt; terms \(termBefore) -> \(termAtHeal)")
                }
            }
        }

        /// The jobs `coordinator` holds, asked directly (it must lead).
        static func jobsAsLeader(_ coordinator: String, _ cluster: RaftClusterHarness) async throws -> [Flotilla_V1_Job] {
            let connection = try await cluster.connect(to: coordinator)
            defer { Task { await connection.close() } }
            return try await allJobs(connection)
        }
    }
}
