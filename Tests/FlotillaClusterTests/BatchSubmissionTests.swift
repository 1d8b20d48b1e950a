import FlotillaPKI
import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

extension ProcessClusterTests {
    /// `SubmitJobsRequest` against a real coordinator: one result per spec in
    /// order, refusals that leave the rest standing, keys deduplicated inside and
    /// across batches, the count limit enforced before decoding, and
    /// `flotillactl jobs submit --file`.
    @Suite struct BatchSubmissionTests {
        static let zero = "[{name: zero, executor: simulated, default_steps: 0}]"

        static func batch(_ specs: [Flotilla_V1_JobSpec]) -> Flotilla_V1_SubmitJobsRequest {
            var request = Flotilla_V1_SubmitJobsRequest()
            request.specs = specs
            return request
        }

        @Test func eachSpecGetsItsOwnResultAndRefusalsLeaveTheOthersStanding() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                try await cluster.startWorker("w1", gpus: 2, models: Self.zero)
                let admin = try await cluster.admin()
                var tooBig = ClusterHarness.spec(model: "zero", key: "too-big")
                tooBig.gpuCount = 100_000
                let specs = [
                    ClusterHarness.spec(model: "zero", key: "a"),
                    ClusterHarness.spec(model: "zero", key: "b"),
                    ClusterHarness.spec(model: "zero", key: "a"),           // the same key again, in the same batch
                    ClusterHarness.spec(model: "no-such-model", key: "c"),
                    tooBig,
                ]
                let first = try await admin.request(Self.batch(specs), expecting: Flotilla_V1_SubmitJobsResponse.self)
                try #require(first.results.count == 5)
                let (a, b, again, unknown, invalid) = (first.results[0], first.results[1], first.results[2], first.results[3], first.results[4])
                #expect(!a.hasError && !a.jobID.isEmpty && !a.duplicate)
                #expect(!b.hasError && b.jobID != a.jobID && !b.duplicate)
                #expect(again.jobID == a.jobID && again.duplicate, "\(again)")
                #expect(unknown.error.code == .notFound && unknown.jobID.isEmpty, "\(unknown)")
                #expect(invalid.error.code == .invalidArgument && invalid.error.message.contains("specs[4]"), "\(invalid)")

                // The same batch again: the same jobs, all duplicates; nothing new was made.
                let second = try await admin.request(Self.batch(specs), expecting: Flotilla_V1_SubmitJobsResponse.self)
                #expect(second.results.prefix(3).map(\.jobID) == [a.jobID, b.jobID, a.jobID])
                #expect(second.results.prefix(3).allSatisfy { $0.duplicate })
                for id in [a.jobID, b.jobID] {
                    #expect(try await cluster.waitForJob(id, via: admin, "succeeded") { $0.state == .succeeded }.state == .succeeded)
                }
                let listed = try await admin.request(Flotilla_V1_ListJobsRequest(), expecting: Flotilla_V1_ListJobsResponse.self)
                #expect(listed.jobs.count == 2)
            }
        }

        @Test func tooManySpecsAreRefusedBeforeDecodingAndTheConnectionKeepsServing() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                try await cluster.startWorker("w1", gpus: 1, models: Self.zero)
                let admin = try await cluster.admin()
                // 1,001 empty specs: 2 bytes each, far under the byte limit.
                do {
                    _ = try await admin.request(Self.batch(Array(repeating: Flotilla_V1_JobSpec(), count: 1_001)),
                                                expecting: Flotilla_V1_SubmitJobsResponse.self)
                    Issue.record("a batch of 1,001 specs was accepted")
                } catch let error as FlotillaError {
                    #expect(error.code == .invalidArgument && error.message.contains("more than 1000"), "\(error)")
                }
                do {
                    _ = try await admin.request(Self.batch([]), expecting: Flotilla_V1_SubmitJobsResponse.self)
                    Issue.record("an empty batch was accepted")
                } catch let error as FlotillaError {
                    #expect(error.code == .invalidArgument)
                }
                let full = (0..<1_000).map { ClusterHarness.spec(model: "zero", key: "k\($0)") }
                let answer = try await admin.request(Self.batch(full), expecting: Flotilla_V1_SubmitJobsResponse.self)
                #expect(answer.results.count == 1_000 && answer.results.allSatisfy { !$0.hasError })
                #expect(Set(answer.results.map(\.jobID)).count == 1_000)

                // Workers may not submit, in batches or not.
                let worker = try await cluster.connect(.worker, "w9")
                do {
                    _ = try await worker.request(Self.batch([ClusterHarness.spec(model: "zero", key: "w")]),
                                                 expecting: Flotilla_V1_SubmitJobsResponse.self)
                    Issue.record("a worker certificate submitted a batch")
                } catch let error as FlotillaError {
                    #expect(error.code == .permissionDenied)
                }
            }
        }

        @Test func aTenantBoundClientCannotBatchJobsIntoAnotherTenant() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                try await cluster.startWorker("w1", gpus: 1, models: Self.zero)
                let acme = try await cluster.connect(.client, "alice", tenant: "acme")
                var foreign = ClusterHarness.spec(model: "zero", key: "x")
                foreign.tenant = "globex"
                let answer = try await acme.request(
                    Self.batch([ClusterHarness.spec(model: "zero", key: "own"), foreign]), expecting: Flotilla_V1_SubmitJobsResponse.self)
                #expect(!answer.results[0].hasError)
                #expect(answer.results[1].error.code == .permissionDenied, "\(answer.results[1])")
                let own = try await cluster.job(answer.results[0].jobID, via: acme)
                #expect(own.spec.tenant == "acme")
            }
        }

        @Test func flotillactlSubmitsAFileAndSubmittingItAgainMakesNoJobTwice() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                try await cluster.startWorker("w1", gpus: 2, models: Self.zero)
                let file = cluster.directory.appending("jobs.jsonl")
                try """
                    # three jobs; the second names its own key
                    {"model": "zero"}
                    {"model": "zero", "idempotencyKey": "mine", "params": {"prompt": "a fox"}}

                    {"model": "zero", "gpuCount": 2}
                    """.write(to: file, atomically: true, encoding: .utf8)
                let tls = try cluster.pki.node(.admin, "operator")
                let arguments = ["jobs", "submit", "--file", file.path, "--addr", cluster.coordinatorAddress,
                                 "--cacert", tls.caCertificate.path, "--cert", tls.certificate.path, "--key", tls.privateKey.path]
                let first = try await runProcess(productURL("flotillactl"), arguments: arguments, timeout: .seconds(30))
                #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
                let ids = first.stdout.split(separator: "\n").map(String.init)
                try #require(ids.count == 3 && Set(ids).count == 3, "\(first.stdout)")
                #expect(first.stderr.contains("3 jobs submitted, 0 already known"), "\(first.stderr)")

                let second = try await runProcess(productURL("flotillactl"), arguments: arguments, timeout: .seconds(30))
                #expect(second.status == 0, "\(second.stderr)")
                #expect(second.stdout.split(separator: "\n").map(String.init) == ids)
                #expect(second.stderr.contains("0 jobs submitted, 3 already known"), "\(second.stderr)")

                let admin = try await cluster.admin()
                #expect(try await cluster.job(ids[1], via: admin).spec.idempotencyKey == "mine")
                #expect(try await cluster.job(ids[2], via: admin).spec.gpuCount == 2)

                // A bad line stops the command before anything is sent.
                try "{\"model\": \"zero\"}\n{\"modle\": 1}\n".write(to: file, atomically: true, encoding: .utf8)
                let bad = try await runProcess(productURL("flotillactl"), arguments: arguments, timeout: .seconds(30))
                #expect(bad.status != 0 && bad.stderr.contains("jobs.jsonl:2"), "\(bad.stderr)")
                let listed = try await admin.request(Flotilla_V1_ListJobsRequest(), expecting: Flotilla_V1_ListJobsResponse.self)
                #expect(listed.jobs.count == 3)
            }
        }
    }
}
