import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

extension ProcessClusterTests {
    /// A worker that subscribes with `accepts_batches` gets the assignments of one
    /// planner round in one `WorkerDirectives` frame; one that does not (an older
    /// worker) gets them one `WorkerDirective` per frame, as before (issue 10).
    @Suite struct DirectiveBatchTests {
        static func submitBatch(_ keys: [String], via client: FlotillaConnection) async throws {
            var batch = Flotilla_V1_SubmitJobsRequest()
            batch.specs = keys.map { ClusterHarness.spec(model: "sdxl", steps: 10, key: $0) }
            let response = try await client.request(batch, expecting: Flotilla_V1_SubmitJobsResponse.self)
            #expect(response.results.count == keys.count)
        }

        static func assignments(_ directives: [Flotilla_V1_WorkerDirective]) -> [Flotilla_V1_Assignment] {
            directives.compactMap { directive in
                if case .assign(let assignment) = directive.directive { return assignment }
                return nil
            }
        }

        @Test func oneRoundsAssignmentsToAWorkerGoInOneFrameOnlyWhereItAcceptsBatches() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let client = try await cluster.connect(.client, "alice")

                // A batching worker with 4 GPUs; 4 jobs arrive in one append, so one round places them all.
                let batching = try await cluster.connect(.worker, "w-batch")
                let first = try await batching.request(CoordinatorBadInputTests.registration("w-batch", gpus: 4),
                                                       expecting: Flotilla_V1_RegisterWorkerResponse.self)
                var subscribe = Flotilla_V1_SubscribeDirectivesRequest()
                subscribe.workerID = first.workerID
                subscribe.acceptsBatches = true
                var batched = batching.stream(subscribe).makeAsyncIterator()
                try await Self.submitBatch((1...4).map { "b-\($0)" }, via: client)
                var received: [Flotilla_V1_Assignment] = []
                var frames = 0
                while received.count < 4, frames < 4 {
                    let item = try await batched.next()
                    frames += 1
                    if let batch = item as? Flotilla_V1_WorkerDirectives {
                        #expect(batch.directives.count > 1, "a batch of one is sent as a plain WorkerDirective")
                        received += Self.assignments(batch.directives)
                    } else if let single = item as? Flotilla_V1_WorkerDirective {
                        received += Self.assignments([single])
                    }
                }
                #expect(received.count == 4)
                #expect(frames == 1, "4 assignments of one round came in \(frames) frames")
                #expect(Set(received.flatMap(\.gpuIndices)) == [0, 1, 2, 3])

                // An older worker (no accepts_batches) gets one WorkerDirective per frame.
                let plain = try await cluster.connect(.worker, "w-plain")
                let second = try await plain.request(CoordinatorBadInputTests.registration("w-plain", gpus: 4),
                                                     expecting: Flotilla_V1_RegisterWorkerResponse.self)
                var old = Flotilla_V1_SubscribeDirectivesRequest()
                old.workerID = second.workerID
                var singles = plain.stream(old).makeAsyncIterator()
                try await Self.submitBatch((1...4).map { "p-\($0)" }, via: client)
                var plainAssignments: [Flotilla_V1_Assignment] = []
                for _ in 0..<4 {
                    let item = try await singles.next()
                    let directive = try #require(item as? Flotilla_V1_WorkerDirective, "got \(String(describing: item))")
                    plainAssignments += Self.assignments([directive])
                }
                #expect(plainAssignments.count == 4)
                #expect(Set(plainAssignments.map(\.jobID)).count == 4)
            }
        }
    }
}
