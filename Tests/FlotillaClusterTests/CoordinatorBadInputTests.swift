import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

extension ProcessClusterTests {
    /// Bad requests to a real coordinator get a clear error with the right code,
    /// and the coordinator keeps serving (and keeps what it stored).
    @Suite struct CoordinatorBadInputTests {
        @Test func badSubmissionsAndRequestsAreRefusedClearly() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.connect(.worker, "w1")
                _ = try await worker.request(Self.registration("w1", gpus: 4), expecting: Flotilla_V1_RegisterWorkerResponse.self)
                let client = try await cluster.connect(.client, "alice")
                let good = try await cluster.submit(ClusterHarness.spec(model: "sdxl", key: "good"), via: client)

                func refusal(_ spec: Flotilla_V1_JobSpec) async -> FlotillaError? {
                    do {
                        _ = try await cluster.submit(spec, via: client)
                        return nil
                    } catch { return error as? FlotillaError }
                }
                let unknownModel = await refusal(ClusterHarness.spec(model: "no-such-model"))
                #expect(unknownModel?.code == .notFound)
                #expect(unknownModel?.message.contains("no-such-model") == true)

                let zeroGPUs = await refusal(ClusterHarness.spec(model: "sdxl", gpus: 0))
                #expect(zeroGPUs?.code == .invalidArgument)
                #expect(zeroGPUs?.message.contains("gpu_count must be at least 1") == true)

                let absurd = await refusal(ClusterHarness.spec(model: "sdxl", gpus: 100_000))
                #expect(absurd?.code == .invalidArgument)
                #expect(absurd?.message.contains("100000") == true)

                let tooBig = await refusal(ClusterHarness.spec(model: "sdxl", gpus: 8))
                #expect(tooBig?.code == .invalidArgument)
                #expect(tooBig?.message.contains("the largest has 4") == true)

                let badParams = await refusal(ClusterHarness.spec(model: "sdxl", params: ["bad key!": "x"]))
                #expect(badParams?.code == .invalidArgument)
                #expect(badParams?.message.contains("param key") == true)

                let nulParam = await refusal(ClusterHarness.spec(model: "sdxl", params: ["prompt": "a\u{0}b"]))
                #expect(nulParam?.code == .invalidArgument)

                var cancel = Flotilla_V1_CancelJobRequest()
                cancel.jobID = "j-does-not-exist"
                await #expect(throws: FlotillaError(.notFound, "no job j-does-not-exist")) {
                    try await client.request(cancel, expecting: Flotilla_V1_CancelJobResponse.self)
                }

                // A second live worker under the same name is refused; the first keeps its registration.
                let twin = try await cluster.connect(.worker, "w1")
                do {
                    _ = try await twin.request(Self.registration("w1", gpus: 4), expecting: Flotilla_V1_RegisterWorkerResponse.self)
                    Issue.record("a second registration of w1 was accepted")
                } catch let error as FlotillaError {
                    #expect(error.code == .alreadyExists)
                    #expect(error.message.contains("already connected"))
                }
                // A worker may not register under another certificate's name.
                let impostor = try await cluster.connect(.worker, "w2")
                await #expect(throws: FlotillaError.self) {
                    try await impostor.request(Self.registration("w1", gpus: 4), expecting: Flotilla_V1_RegisterWorkerResponse.self)
                }
                // A client may not act as a worker, nor a worker list the cluster.
                await #expect(throws: FlotillaError.self) {
                    try await client.request(Self.registration("alice", gpus: 1), expecting: Flotilla_V1_RegisterWorkerResponse.self)
                }

                // Still serving, nothing lost.
                #expect(try await cluster.job(good.job.id, via: client).id == good.job.id)
                let again = try await cluster.submit(ClusterHarness.spec(model: "sdxl", key: "after"), via: client)
                #expect(!again.duplicate)
                #expect(cluster.coordinator?.isRunning == true)
            }
        }

        static func registration(_ name: String, gpus: Int, models: [String] = ["sdxl"]) -> Flotilla_V1_RegisterWorkerRequest {
            var register = Flotilla_V1_RegisterWorkerRequest()
            register.name = name
            register.models = models
            register.gpus = (0..<gpus).map { index in
                var gpu = Flotilla_V1_Gpu()
                gpu.index = UInt32(index)
                gpu.type = "A100"
                return gpu
            }
            return register
        }
    }
}
