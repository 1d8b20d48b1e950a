import FlotillaProto
import FlotillaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// SIGTERM ends a worker as soon as it has nothing left to report (issue 8, item 9).
    /// Before, an idle worker waited out its whole 30 s `drain_grace`, and container
    /// runtimes kill after 10 s.
    @Suite struct WorkerShutdownTests {
        static let sdxl = "[{name: sdxl, executor: simulated, step_duration: 50ms, checkpoint_every: 5, default_steps: 1000}]"

        @Test func anIdleWorkerExitsWithinASecondOrSo() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                let started = ContinuousClock.now
                worker.signal(SIGTERM)
                #expect(await worker.waitForExit(timeout: .seconds(10)))
                let took = ContinuousClock.now - started
                #expect(took < .seconds(3), "an idle worker took \(took) to exit")
                #expect(worker.exitStatus == 0)
                #expect(worker.output.contains("drained: every attempt reported"))
            }
        }

        @Test func aBusyWorkerExitsOnceItsReportsAreDelivered() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 1000), via: admin).job
                _ = try await cluster.waitForJob(job.id, via: admin, "running") { $0.step >= 2 }
                let started = ContinuousClock.now
                worker.signal(SIGTERM)
                #expect(await worker.waitForExit(timeout: .seconds(25)))
                let took = ContinuousClock.now - started
                #expect(took < .seconds(8), "a busy worker took \(took) to exit (drain grace 30 s)")
                #expect(worker.exitStatus == 0)
                // Its attempt was checkpointed and handed back, not lost.
                let after = try await cluster.waitForJob(job.id, via: admin, "queued again") { $0.state == .queued }
                #expect(after.attempts.last?.state == .preempted, "\(after.attempts)")
            }
        }
    }
}
