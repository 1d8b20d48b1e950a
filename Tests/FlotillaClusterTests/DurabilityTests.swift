import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// The coordinator acknowledges a submission only once it is on disk: killed
    /// with SIGKILL at a random moment under load, it restarts with every
    /// acknowledged job, none twice, and a torn tail is cut off and reported.
    @Suite struct DurabilityTests {
        /// What the submitters were told: idempotency key → job id.
        actor Acknowledged {
            var jobs: [String: String] = [:]
            var attempted = Set<String>()
            /// Batches sent whose answer never came (the coordinator died first).
            var lost: [[String]] = []
            func attempt(_ key: String) { attempted.insert(key) }
            func unanswered(_ keys: [String]) { lost.append(keys) }
            func clearLost() { lost.removeAll() }
            func record(_ key: String, _ id: String) { jobs[key] = id }
        }

        @Test func everyAcknowledgedJobSurvivesSIGKILL() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                try await registerModelServer(cluster)
                let acknowledged = Acknowledged()
                // The kill moments come from a seed, printed so that a failure can be replayed.
                let seed = ProcessInfo.processInfo.environment["FLOTILLA_DURABILITY_SEED"].flatMap { UInt64($0) }
                    ?? UInt64.random(in: 1...UInt64.max)
                print("durability: kill moments from seed \(seed) (FLOTILLA_DURABILITY_SEED=\(seed) replays them)")
                var generator = SplitMix64(seed: seed)
                for round in 0..<3 {
                    let submitters = Task {
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for submitter in 0..<8 {
                                group.addTask {
                                    let connection = try await cluster.admin()
                                    // Half the submitters send batches: each result is acknowledged
                                    // on its own, and the batch the kill cut off is sent again.
                                    if submitter % 2 == 1 {
                                        return try await submitBatches(round: round, submitter: submitter, via: connection, into: acknowledged)
                                    }
                                    var n = 0
                                    while true {
                                        let key = "r\(round)-s\(submitter)-\(n)"
                                        n += 1
                                        await acknowledged.attempt(key)
                                        guard let answer = try? await cluster.submit(
                                            ClusterHarness.spec(model: "sdxl", key: key), via: connection) else { return }
                                        await acknowledged.record(key, answer.job.id)
                                    }
                                }
                            }
                            try await group.waitForAll()
                        }
                    }
                    try await Task.sleep(for: .milliseconds(generator.int(in: 300...900)))
                    await cluster.coordinator?.killNow()
                    try await submitters.value
                    try await cluster.startCoordinator()
                    try await checkAcknowledged(acknowledged, cluster, seed: seed)
                }
                let count = await acknowledged.jobs.count
                #expect(count > 100, "the submitters got only \(count) acknowledgements in three rounds")
            }
        }

        @Test func corruptTailIsTruncatedWithALogLine() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                try await registerModelServer(cluster)
                let connection = try await cluster.admin()
                var ids: [String: String] = [:]
                for n in 0..<20 {
                    ids["k\(n)"] = try await cluster.submit(ClusterHarness.spec(model: "sdxl", key: "k\(n)"), via: connection).job.id
                }
                await connection.close()
                await cluster.coordinator?.killNow()

                // A torn write: half a record header and garbage after the last acknowledged entry.
                let logDirectory = cluster.coordinatorDataDirectory.appendingPathComponent("log")
                let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: logDirectory.path)
                    .filter { $0.hasSuffix(".seg") }.sorted().last)
                let handle = try FileHandle(forWritingTo: logDirectory.appendingPathComponent(segment))
                handle.seekToEndOfFile()
                handle.write(Data([0x40, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]))
                try handle.close()

                let restarted = try await cluster.startCoordinator()
                #expect(restarted.output.contains("truncated 11 bytes of torn/corrupt tail"), "\(restarted.tail())")
                let again = try await cluster.admin()
                for (key, id) in ids {
                    let answer = try await cluster.submit(ClusterHarness.spec(model: "sdxl", key: key), via: again)
                    #expect(answer.duplicate && answer.job.id == id)
                }
                // The log keeps working after the cut: a new submission is acknowledged and survives.
                let fresh = try await cluster.submit(ClusterHarness.spec(model: "sdxl", key: "after-cut"), via: again)
                await cluster.coordinator?.killNow()
                try await cluster.startCoordinator()
                let third = try await cluster.admin()
                #expect(try await cluster.job(fresh.job.id, via: third).id == fresh.job.id)
            }
        }

        /// Batches of 25 until the coordinator dies; the batch whose answer never came is
        /// resent to the restarted one with the same keys by `checkAcknowledged`'s sweep.
        private func submitBatches(round: Int, submitter: Int, via connection: FlotillaConnection,
                                   into acknowledged: Acknowledged) async throws {
            var n = 0
            while true {
                var request = Flotilla_V1_SubmitJobsRequest()
                let keys = (0..<25).map { "r\(round)-b\(submitter)-\(n + $0)" }
                n += keys.count
                request.specs = keys.map { ClusterHarness.spec(model: "sdxl", key: $0) }
                for key in keys { await acknowledged.attempt(key) }
                guard let answer = try? await connection.request(request, expecting: Flotilla_V1_SubmitJobsResponse.self) else {
                    await acknowledged.unanswered(keys)
                    return
                }
                #expect(answer.results.count == keys.count)
                for (key, result) in zip(keys, answer.results) {
                    #expect(!result.hasError, "\(key): \(result.error.message)")
                    await acknowledged.record(key, result.jobID)
                }
            }
        }

        /// Registers a worker (over the protocol, no process) so that the model is known.
        private func registerModelServer(_ cluster: ClusterHarness) async throws {
            let worker = try await cluster.connect(.worker, "model-server")
            var register = Flotilla_V1_RegisterWorkerRequest()
            register.name = "model-server"
            var gpu = Flotilla_V1_Gpu()
            gpu.index = 0
            gpu.type = "A100"
            register.gpus = [gpu]
            register.models = ["sdxl"]
            _ = try await worker.request(register, expecting: Flotilla_V1_RegisterWorkerResponse.self)
            await worker.close()
        }

        /// Every acknowledged key names the same job after the restart, and no key made two jobs.
        private func checkAcknowledged(_ acknowledged: Acknowledged, _ cluster: ClusterHarness, seed: UInt64? = nil) async throws {
            let replay = seed.map { " (replay: FLOTILLA_DURABILITY_SEED=\($0))" } ?? ""
            let connection = try await cluster.admin()
            // A batch whose acknowledgement never came, resent with the same keys: each of
            // its jobs exists once, whether or not the first sending reached the log.
            for keys in await acknowledged.lost {
                var request = Flotilla_V1_SubmitJobsRequest()
                request.specs = keys.map { ClusterHarness.spec(model: "sdxl", key: $0) }
                let answer = try await connection.request(request, expecting: Flotilla_V1_SubmitJobsResponse.self)
                #expect(answer.results.count == keys.count && answer.results.allSatisfy { !$0.hasError && !$0.jobID.isEmpty })
                for (key, result) in zip(keys, answer.results) { await acknowledged.record(key, result.jobID) }
            }
            await acknowledged.clearLost()
            let jobs = await acknowledged.jobs
            for (key, id) in jobs {
                let answer = try await cluster.submit(ClusterHarness.spec(model: "sdxl", key: key), via: connection)
                #expect(answer.duplicate, "key \(key) was acknowledged as \(id) but is unknown after the restart\(replay)")
                #expect(answer.job.id == id)
            }
            var keys: [String: Int] = [:]
            var request = Flotilla_V1_ListJobsRequest()
            request.limit = 10_000
            while true {
                let page = try await connection.request(request, expecting: Flotilla_V1_ListJobsResponse.self)
                for job in page.jobs { keys[job.spec.idempotencyKey, default: 0] += 1 }
                guard !page.nextPageToken.isEmpty else { break }
                request.pageToken = page.nextPageToken
            }
            let attempted = await acknowledged.attempted
            #expect(keys.values.allSatisfy { $0 == 1 }, "an idempotency key made two jobs\(replay)")
            #expect(Set(keys.keys).isSubset(of: attempted.union(["after-cut"])))
            await connection.close()
        }
    }
}
