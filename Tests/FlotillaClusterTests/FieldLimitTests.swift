import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

extension ProcessClusterTests {
    /// Every string, map and repeated field is bounded before anything reaches the log,
    /// and worker reports are checked against their token and the job's steps (issue 8,
    /// items 2 and 10).
    @Suite struct FieldLimitTests {
        static func logBytes(_ cluster: ClusterHarness) throws -> Int {
            let directory = cluster.coordinatorDataDirectory.path
            return try FileManager.default.contentsOfDirectory(atPath: directory).reduce(0) { total, name in
                let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
                return total + ((attributes[.size] as? Int) ?? 0)
            }
        }

        /// The assignment of `jobID` among the next few directives (replays may come first).
        static func assignment(
            from directives: inout AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.AsyncIterator, for jobID: String
        ) async throws -> Flotilla_V1_Assignment? {
            for _ in 0..<5 {
                guard let directive = try await directives.next() as? Flotilla_V1_WorkerDirective else { return nil }
                if case .assign(let assignment) = directive.directive, assignment.jobID == jobID { return assignment }
            }
            return nil
        }

        static func spec(_ change: (inout Flotilla_V1_JobSpec) -> Void) -> Flotilla_V1_JobSpec {
            var spec = ClusterHarness.spec(model: "sdxl")
            change(&spec)
            return spec
        }

        static func invalid(_ body: () async throws -> Void) async -> FlotillaError? {
            do {
                try await body()
                return nil
            } catch { return error as? FlotillaError }
        }

        @Test func oversizedFieldsAreRefusedBeforeTheLog() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.connect(.worker, "w1")
                _ = try await worker.request(CoordinatorBadInputTests.registration("w1", gpus: 4),
                                             expecting: Flotilla_V1_RegisterWorkerResponse.self)
                let client = try await cluster.connect(.client, "alice")
                let before = try Self.logBytes(cluster)

                // The probes' sizes are past the kind's frame limit: refused before they are sent.
                let hugeHint = Self.spec { $0.regionHint = String(repeating: "r", count: 8 << 20) }
                let hugeHintError = await Self.invalid { _ = try await cluster.submit(hugeHint, via: client) }
                #expect(hugeHintError?.code == .resourceExhausted)
                let hugeLabels = Self.spec { $0.labels = Dictionary(uniqueKeysWithValues: (0..<200_000).map { ("k\($0)", "v") }) }
                let hugeLabelsError = await Self.invalid { _ = try await cluster.submit(hugeLabels, via: client) }
                #expect(hugeLabelsError?.code == .resourceExhausted)
                let manyGPUs = try await cluster.connect(.worker, "w-huge")
                let million = await Self.invalid {
                    _ = try await manyGPUs.request(CoordinatorBadInputTests.registration("w-huge", gpus: 1_000_000),
                                                   expecting: Flotilla_V1_RegisterWorkerResponse.self)
                }
                #expect(million?.code == .resourceExhausted)

                // Just past each field's own limit: INVALID_ARGUMENT naming the field.
                let longHint = Self.spec { $0.regionHint = String(repeating: "r", count: 129) }
                let hint = await Self.invalid { _ = try await cluster.submit(longHint, via: client) }
                #expect(hint?.code == .invalidArgument)
                #expect(hint?.message.contains("region_hint") == true)

                let manyLabels = Self.spec { $0.labels = Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", "v") }) }
                let labels = await Self.invalid { _ = try await cluster.submit(manyLabels, via: client) }
                #expect(labels?.code == .invalidArgument)
                #expect(labels?.message.contains("65 labels is more than 64") == true)

                let gpus = await Self.invalid {
                    _ = try await manyGPUs.request(CoordinatorBadInputTests.registration("w-huge", gpus: 65),
                                                   expecting: Flotilla_V1_RegisterWorkerResponse.self)
                }
                #expect(gpus?.code == .invalidArgument)
                #expect(gpus?.message.contains("65 GPUs is more than 64") == true)

                // Nothing of them was stored: the log grew by less than a KiB, and lists still work.
                #expect(try Self.logBytes(cluster) - before < 1_024)
                let listed = try await client.request(Flotilla_V1_ListJobsRequest(), expecting: Flotilla_V1_ListJobsResponse.self)
                #expect(listed.jobs.isEmpty)
                let admin = try await cluster.admin()
                let workers = try await admin.request(Flotilla_V1_ListWorkersRequest(), expecting: Flotilla_V1_ListWorkersResponse.self)
                #expect(workers.workers.map(\.name) == ["w1"])
                // host:port, not NIO's "[IPv4]127.0.0.1/127.0.0.1:48746".
                let address = try #require(workers.workers.first?.address)
                #expect(address.hasPrefix("127.0.0.1:") && Int(address.dropFirst("127.0.0.1:".count)) != nil, "\(address)")
                // A drill of no kind is malformed (§11.5).
                let drill = await Self.invalid {
                    _ = try await admin.request(Flotilla_V1_DrillRequest(), expecting: Flotilla_V1_DrillReport.self)
                }
                #expect(drill?.code == .invalidArgument)
            }
        }

        @Test func invalidReportsGetInvalidArgumentAndASecondSubscriptionReceives() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.connect(.worker, "w1")
                let registered = try await worker.request(CoordinatorBadInputTests.registration("w1", gpus: 2),
                                                          expecting: Flotilla_V1_RegisterWorkerResponse.self)
                var subscribe = Flotilla_V1_SubscribeDirectivesRequest()
                subscribe.workerID = registered.workerID
                let client = try await cluster.connect(.client, "alice")
                var first = worker.stream(subscribe).makeAsyncIterator()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 10), via: client).job
                let assignment = try #require(try await Self.assignment(from: &first, for: job.id))

                // A second subscription on the same connection replaces the first, and it is
                // the one that receives. Before, the first one's end dropped the second.
                var second = worker.stream(subscribe).makeAsyncIterator()
                do {
                    while try await first.next() != nil {}
                    Issue.record("the replaced subscription ended without an error")
                } catch let error as FlotillaError {
                    #expect(error.code == .cancelled)
                }
                let next = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 10, key: "next"), via: client).job
                #expect(try await Self.assignment(from: &second, for: next.id) != nil)

                var progress = Flotilla_V1_ProgressReport()
                progress.jobID = job.id
                progress.token = assignment.token
                progress.state = .running
                progress.step = 11
                let pastTotal = await Self.invalid { _ = try await worker.request(progress, expecting: Flotilla_V1_ReportAck.self) }
                #expect(pastTotal?.code == .invalidArgument)
                #expect(pastTotal?.message.contains("past the job's 10 steps") == true)

                var checkpoint = Flotilla_V1_CheckpointReport()
                checkpoint.token = assignment.token
                checkpoint.checkpoint.jobID = job.id
                checkpoint.checkpoint.attempt = assignment.token.attempt + 1
                checkpoint.checkpoint.step = 2
                checkpoint.checkpoint.uri = "file:///data/c.ckpt"
                checkpoint.checkpoint.sizeBytes = 1
                checkpoint.checkpoint.sha256Hex = String(repeating: "a", count: 64)
                let wrongAttempt = await Self.invalid { _ = try await worker.request(checkpoint, expecting: Flotilla_V1_ReportAck.self) }
                #expect(wrongAttempt?.code == .invalidArgument)

                var result = Flotilla_V1_AttemptResult()
                result.jobID = job.id
                result.token = assignment.token
                result.state = .running
                let notTerminal = await Self.invalid { _ = try await worker.request(result, expecting: Flotilla_V1_ReportAck.self) }
                #expect(notTerminal?.code == .invalidArgument)

                // A valid report is still accepted.
                progress.step = 3
                #expect(try await worker.request(progress, expecting: Flotilla_V1_ReportAck.self).accepted)
                #expect(try await cluster.job(job.id, via: client).step == 3)
            }
        }

        /// A ReportBatch is answered report by report, in order: an invalid one gets the
        /// error it would have got alone and the others still apply, each fenced by its
        /// own token; another worker's report in the batch is PERMISSION_DENIED.
        @Test func aReportBatchIsAnsweredReportByReport() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.connect(.worker, "w1")
                let registered = try await worker.request(CoordinatorBadInputTests.registration("w1", gpus: 2),
                                                          expecting: Flotilla_V1_RegisterWorkerResponse.self)
                var subscribe = Flotilla_V1_SubscribeDirectivesRequest()
                subscribe.workerID = registered.workerID
                var directives = worker.stream(subscribe).makeAsyncIterator()
                let client = try await cluster.connect(.client, "alice")
                let first = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 10, key: "one"), via: client).job
                let one = try #require(try await Self.assignment(from: &directives, for: first.id))
                let other = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 10, key: "two"), via: client).job
                let two = try #require(try await Self.assignment(from: &directives, for: other.id))

                func progress(_ job: String, _ token: Flotilla_V1_FencingToken, step: UInt64) -> Flotilla_V1_WorkerReport {
                    Flotilla_V1_WorkerReport.with {
                        $0.progress = Flotilla_V1_ProgressReport.with { $0.jobID = job; $0.token = token; $0.state = .running; $0.step = step }
                    }
                }
                var stale = two.token
                stale.attempt += 7
                var batch = Flotilla_V1_ReportBatch()
                batch.reports = [
                    progress(first.id, one.token, step: 4),
                    progress(first.id, one.token, step: 11),     // past the job's 10 steps
                    progress(other.id, stale, step: 2),          // a token the job never issued
                    Flotilla_V1_WorkerReport.with {
                        $0.result = Flotilla_V1_AttemptResult.with { $0.jobID = other.id; $0.token = two.token; $0.state = .succeeded; $0.step = 10 }
                    },
                ]
                let answer = try await worker.request(batch, expecting: Flotilla_V1_ReportBatchAck.self)
                try #require(answer.acks.count == 4)
                #expect(answer.acks[0].accepted && !answer.acks[0].hasError)
                #expect(answer.acks[1].error.code == .invalidArgument && answer.acks[1].error.message.contains("past the job's 10 steps"))
                #expect(!answer.acks[2].accepted && !answer.acks[2].hasError, "\(answer.acks[2])")
                #expect(answer.acks[3].accepted, "\(answer.acks[3])")
                #expect(try await cluster.job(first.id, via: client).step == 4)
                #expect(try await cluster.job(other.id, via: client).state == .succeeded)

                // Another worker may not report for w1's attempt, batched or not.
                let intruder = try await cluster.connect(.worker, "w2")
                _ = try await intruder.request(CoordinatorBadInputTests.registration("w2", gpus: 1),
                                               expecting: Flotilla_V1_RegisterWorkerResponse.self)
                var theirs = Flotilla_V1_ReportBatch()
                theirs.reports = [progress(first.id, one.token, step: 5), progress(first.id, one.token, step: 6)]
                let refused = try await intruder.request(theirs, expecting: Flotilla_V1_ReportBatchAck.self)
                #expect(refused.acks.count == 2 && refused.acks.allSatisfy { $0.error.code == .permissionDenied })
                #expect(try await cluster.job(first.id, via: client).step == 4)

                // An empty batch, and one past 64 reports (counted before decoding), are refused whole.
                for reports in [[Flotilla_V1_WorkerReport](), Array(repeating: progress(first.id, one.token, step: 5), count: 65)] {
                    var bad = Flotilla_V1_ReportBatch()
                    bad.reports = reports
                    let error = await Self.invalid { _ = try await worker.request(bad, expecting: Flotilla_V1_ReportBatchAck.self) }
                    #expect(error?.code == .invalidArgument, "\(reports.count) reports: \(String(describing: error))")
                }
                // Clients may not send worker reports.
                let denied = await Self.invalid { _ = try await client.request(batch, expecting: Flotilla_V1_ReportBatchAck.self) }
                #expect(denied?.code == .permissionDenied)
            }
        }
    }
}
