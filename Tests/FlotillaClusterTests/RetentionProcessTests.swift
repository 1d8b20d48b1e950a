import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

extension ProcessClusterTests {
    /// Retention in a real coordinator: with a 1 s TTL a finished job is
    /// pruned by the leader's own command, and asking for it says so.
    @Suite struct RetentionProcessTests {
        @Test func aFinishedJobIsRemovedAndGetJobSaysSo() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = ["retention.job_ttl": "1s"]
                try await cluster.startCoordinator()
                try await cluster.startWorker("w1", gpus: 1, models: CoordinatorServingTests.sdxl)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 2, key: "once"), via: admin).job
                try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                let deadline = ContinuousClock.now + .seconds(20)
                var removed: FlotillaError?
                while removed == nil, ContinuousClock.now < deadline {
                    do {
                        _ = try await cluster.job(job.id, via: admin)
                        try await Task.sleep(for: .milliseconds(100))
                    } catch let error as FlotillaError {
                        removed = error
                    }
                }
                let error = try #require(removed, "job \(job.id) was never removed")
                #expect(error.code == .notFound)
                #expect(error.message.hasPrefix("job \(job.id) was removed by retention at "), "\(error.message)")
                // Its idempotency key is free again: the same key makes a new job.
                let again = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 2, key: "once"), via: admin)
                #expect(!again.duplicate && again.job.id != job.id)
            }
        }
    }
}
