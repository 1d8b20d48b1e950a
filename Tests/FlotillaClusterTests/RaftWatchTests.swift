import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// Streams follow a leader change (PROTOCOL.md §10), through real processes: the real
    /// `flotillactl jobs watch`, given every coordinator's address, keeps following a running
    /// job while its leader is killed with SIGKILL or hands over with `operator raft
    /// transfer-leadership`; the worker's directive stream moves to the new leader too, so the
    /// job finishes there in its first attempt.
    @Suite struct RaftWatchTests {
        /// 50 steps of 100 ms: about 5 s, still running well after the new leader takes over
        /// (within 0.2 s of a kill, as followers see the leader's connection close; an election
        /// timeout, 1 to 2 s, where they must wait for it).
        static let long = "[{name: long, executor: simulated, step_duration: 100ms, default_steps: 50}]"

        enum LeaderChange { case kill, transfer }

        @Test("a watch given every address survives the leader's SIGKILL: it ends with SUCCEEDED, exit 0, one attempt")
        func watchSurvivesLeaderKill() async throws {
            try await Self.watchAcross(.kill)
        }

        @Test("a watch given every address survives `operator raft transfer-leadership`: it ends with SUCCEEDED, exit 0, one attempt")
        func watchSurvivesTransfer() async throws {
            try await Self.watchAcross(.transfer)
        }

        static func milliseconds(_ date: Date = Date()) -> UInt64 { UInt64(date.timeIntervalSince1970 * 1000) }

        static func watchAcross(_ change: LeaderChange) async throws {
            let began = ContinuousClock.now
            try await RaftClusterHarness.withCluster { cluster in
                try await cluster.startAll()
                _ = try await cluster.waitForLeader()
                try await cluster.startWorker("w1", gpus: 2, models: Self.long)
                try await cluster.startWorker("w2", gpus: 2, models: Self.long)
                let client = try cluster.client()
                var submit = Flotilla_V1_SubmitJobRequest()
                submit.spec = ClusterHarness.spec(model: "long", key: "watched")
                let id = try await client.request(submit, expecting: Flotilla_V1_SubmitJobResponse.self).job.id

                // The watch, as an operator runs it: the admin certificate, all three addresses.
                let tls = try cluster.pki.node(.admin, "operator")
                let binary = productURL("flotillactl")
                try #require(FileManager.default.isExecutableFile(atPath: binary.path), "flotillactl is not built at \(binary.path)")
                let watch = try ChildProcess(
                    name: "watch", executable: binary,
                    arguments: ["jobs", "watch", id, "--addr", cluster.addresses.joined(separator: ","),
                                "--cacert", tls.caCertificate.path, "--cert", tls.certificate.path, "--key", tls.privateKey.path],
                    logURL: cluster.directory.appending("watch.log"))
                do {
                    // Running, and progressing, before the leader changes.
                    try await watch.waitForOutput("RUNNING attempt 1 on w", timeout: .seconds(15))
                    var before = try await RaftFailoverTests.job(id, client)
                    let deadline = ContinuousClock.now + .seconds(10)
                    while before.step < 3, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                        before = try await RaftFailoverTests.job(id, client)
                    }
                    try #require(before.state == .running && before.attempts.count == 1 && before.step >= 3, "\(before)")
                    let worker = before.attempts[0].workerID

                    let again = "reconnected: worker registered again"
                    let registeredBefore = cluster.workers.mapValues { RaftPartitionTests.occurrences(of: again, in: $0) }
                    let old = try await cluster.waitForLeader()
                    let changedAt = milliseconds()
                    let changed = ContinuousClock.now
                    let new: String
                    switch change {
                    case .kill:
                        await cluster.kill(old)
                        new = try await cluster.waitForLeader(excluding: old)
                    case .transfer:
                        let target = cluster.names.first { $0 != old }!
                        let moved = try await RaftMembershipTests.raft(["transfer-leadership", "--to", target], via: old, cluster)
                        #expect(moved.status == 0, "\(moved.stderr)")
                        #expect(moved.stdout.hasPrefix("leader: \(target) "), "\(moved.stdout)")
                        new = try await cluster.waitForLeader(excluding: old)
                        #expect(new == target)
                    }
                    let elected = ContinuousClock.now
                    // The job was still running when its leader changed.
                    let during = try await RaftFailoverTests.job(id, client)
                    #expect(during.state == .running, "the job was no longer running after the leader change: \(during)")

                    let exited = await watch.waitForExit(timeout: .seconds(40))
                    let output = watch.output
                    if !exited { await watch.stop() }
                    #expect(exited, "the watch did not end:\n\(output)")
                    #expect(watch.exitStatus == 0, "the watch exited \(watch.exitStatus.map { "\($0)" } ?? "-"):\n\(output)")
                    let lines = output.split(separator: "\n").map(String.init)
                    let last = lines.last ?? ""
                    // The terminal event names the attempt (its worker is in the record, checked below).
                    #expect(last.contains(" SUCCEEDED attempt 1 step 50/50"), "last line: \(last)\n\(output)")
                    #expect(!output.contains("flotillactl:"), "the watch printed an error:\n\(output)")
                    // Each line is one event: a time, then a state.
                    let states: Set<String> = ["QUEUED", "RUNNING", "SUCCEEDED"]
                    let odd = lines.filter { line in
                        let parts = line.split(separator: " ")
                        return parts.count < 2 || !states.contains(String(parts[1]))
                    }
                    #expect(odd.isEmpty, "lines that are not events: \(odd)")
                    // The stream was opened again (its first event restates the job) and only SUCCEEDED is terminal.
                    let restated = output.components(separatedBy: "- current state").count - 1
                    #expect(restated >= 2, "the watch never reopened its stream:\n\(output)")
                    #expect(lines.filter { $0.contains(" SUCCEEDED ") }.count == 1, "\(output)")

                    // The worker kept running it and reported its end to the new leader: one
                    // attempt, never resumed, that ended after the change.
                    let reader = try cluster.client()
                    let job = try await RaftFailoverTests.job(id, reader)
                    #expect(await cluster.leaders() == [new])
                    #expect(job.state == .succeeded, "\(job)")
                    #expect(job.attempts.count == 1, "restarted by the failover: \(job.attempts)")
                    if let attempt = job.attempts.first {
                        #expect(attempt.state == .succeeded)
                        #expect(attempt.workerID == worker)
                        #expect(attempt.resumedFromStep == 0)
                        #expect(attempt.endedUnixMs > changedAt, "the attempt ended before the leader changed")
                    }
                    #expect(job.step == 50)
                    // Both workers' directive streams ended with the old leader's term (a lost
                    // connection, or NOT_LEADER from stepDown) and they registered with the new one.
                    for (name, worker) in cluster.workers {
                        #expect(RaftPartitionTests.occurrences(of: again, in: worker) > registeredBefore[name] ?? 0,
                                "\(name) never registered again:\n\(worker.tail(15))")
                    }
                    await reader.close()
                    await client.close()
                    let finished = ContinuousClock.now
                    print("watch across a leader \(change == .kill ? "kill" : "transfer"): \(old) -> \(new) in \(elected - changed), "
                          + "the watch ended \(finished - elected) later (\(finished - began) into the test); "
                          + "\(lines.count) events, stream opened \(restated) times")
                } catch {
                    print("--- watch:\n\(watch.output)")
                    await watch.stop()
                    throw error
                }
                await watch.stop()
            }
        }
    }
}
