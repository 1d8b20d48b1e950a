import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// Failure recovery with real coordinator and worker processes on loopback,
    /// timers shortened by configuration: workers killed, paused, drained and
    /// stopped while they run jobs.
    @Suite struct RecoveryTests {
        /// 250 ms heartbeats, SUSPECT after 500 ms, LOST after 2 s.
        static let fastHealth = [
            "health.heartbeat_interval": "250ms", "health.missed_heartbeats": "2",
            "health.heartbeat_timeout": "2s", "health.checkpoint_grace": "2s",
        ]
        static let sdxl = "[{name: sdxl, executor: simulated, step_duration: 100ms, checkpoint_every: 3, default_steps: 30}]"

        func cluster(_ extra: [String: String] = [:], _ body: (ClusterHarness) async throws -> Void) async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = Self.fastHealth.merging(extra) { _, new in new }
                try await cluster.startCoordinator()
                try await body(cluster)
            }
        }

        func workerID(_ name: String, _ admin: FlotillaConnection) async throws -> String {
            let workers = try await admin.request(Flotilla_V1_ListWorkersRequest(), expecting: Flotilla_V1_ListWorkersResponse.self)
            return try #require(workers.workers.first { $0.name == name }?.id)
        }

        @Test func workerKilledMidJobResumesElsewhereFromItsCheckpoint() async throws {
            try await cluster { cluster in
                let first = try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 40), via: admin).job
                let w1 = try await workerID("w1", admin)
                let checkpointed = try await cluster.waitForJob(job.id, via: admin, "checkpointed on w1") {
                    $0.latestCheckpoint.step >= 3 && $0.attempts.last?.workerID == w1
                }
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl)
                await first.killNow()
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                let w2 = try await workerID("w2", admin)
                #expect(done.attempts.count == 2, "\(done.attempts)")
                #expect(done.attempts.first?.state == .lost)
                #expect(done.attempts.last?.workerID == w2)
                let resumed = try #require(done.attempts.last?.resumedFromStep)
                #expect(resumed >= checkpointed.latestCheckpoint.step && resumed > 0,
                        "resumed from \(resumed), checkpoint was at \(checkpointed.latestCheckpoint.step)")
            }
        }

        @Test func aCorruptCheckpointRestartsTheJobFromStepZero() async throws {
            try await cluster { cluster in
                let first = try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 30), via: admin).job
                try await cluster.waitForJob(job.id, via: admin, "checkpointed") { $0.latestCheckpoint.step >= 3 }
                await first.killNow()
                let checkpoint = try await cluster.job(job.id, via: admin).latestCheckpoint
                let path = checkpoint.uri.hasPrefix("file://") ? String(checkpoint.uri.dropFirst(7)) : checkpoint.uri
                var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                bytes[bytes.count / 2] ^= 0xFF
                try bytes.write(to: URL(fileURLWithPath: path))
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl)
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                #expect(done.attempts.count == 3, "\(done.attempts)")
                #expect(done.attempts[1].state == .failed)
                #expect(done.attempts[1].error.contains(checkpoint.uri) || done.attempts[1].error.contains(path),
                        "the failure should name the checkpoint: \(done.attempts[1].error)")
                #expect(done.attempts[2].resumedFromStep == 0)
            }
        }

        @Test func stalledJobIsAskedToCheckpointAndReassigned() async throws {
            try await cluster(["health.stall_timeout": "1s", "health.checkpoint_grace": "1s"]) { cluster in
                let script = cluster.directory.appending("stall-once.sh")
                // The first attempt reports one step, then hangs (exec: the signal reaches the sleeper).
                try """
                    #!/bin/sh
                    if [ "$FLOTILLA_ATTEMPT" = "1" ]; then echo "PROGRESS 1 $FLOTILLA_STEPS"; exec sleep 60; fi
                    i=0
                    while [ $i -lt "$FLOTILLA_STEPS" ]; do i=$((i+1)); echo "PROGRESS $i $FLOTILLA_STEPS"; done
                    """.write(to: script, atomically: true, encoding: .utf8)
                chmod(script.path, 0o755)
                try await cluster.startWorker("w1", gpus: 1,
                                              models: "[{name: staller, executor: process, command: [\(script.path)], default_steps: 5}]")
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "staller", steps: 5), via: admin).job
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded after a stall") { $0.state == .succeeded }
                #expect(done.attempts.count == 2, "\(done.attempts)")
                #expect(done.attempts.first?.state == .preempted, "\(done.attempts)")
                #expect(done.attempts.last?.state == .succeeded)
            }
        }

        @Test func workerDeclaredDeadCannotReportOverTheNewAttempt() async throws {
            try await cluster { cluster in
                let first = try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 60), via: admin).job
                let w1 = try await workerID("w1", admin)
                try await cluster.waitForJob(job.id, via: admin, "running on w1") { $0.step >= 2 && $0.attempts.last?.workerID == w1 }
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl)
                first.signal(SIGSTOP)  // partitioned: alive, silent
                let moved = try await cluster.waitForJob(job.id, via: admin, "moved to w2") {
                    $0.attempts.count == 2 && $0.attempts.last?.state == .running
                }
                first.signal(SIGCONT)  // comes back holding attempt 1
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                let w2 = try await workerID("w2", admin)
                #expect(done.attempts.count == 2)
                #expect(done.attempts[0].state == .lost)
                #expect(done.attempts[1].workerID == w2 && done.attempts[1].state == .succeeded)
                #expect(moved.attempts[1].token.attempt == 2)
                // w1 was told to stop its superseded attempt and runs nothing now.
                let workers = try await admin.request(Flotilla_V1_ListWorkersRequest(), expecting: Flotilla_V1_ListWorkersResponse.self)
                #expect(workers.workers.first { $0.name == "w1" }?.running.isEmpty == true)
                #expect(first.isRunning)
            }
        }

        /// A pause shorter than the self-fencing deadline (833 ms with these timers) costs nothing.
        @Test func workerSilentBrieflyKeepsItsJob() async throws {
            try await cluster { cluster in
                let worker = try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 30), via: admin).job
                try await cluster.waitForJob(job.id, via: admin, "running") { $0.step >= 2 }
                worker.signal(SIGSTOP)
                try await Task.sleep(for: .milliseconds(400))
                worker.signal(SIGCONT)
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                #expect(done.attempts.count == 1, "the job was restarted needlessly: \(done.attempts)")
            }
        }

        /// Silent past its fencing deadline, a worker cannot know whether its attempt was
        /// given to someone else, so it stops it; the job resumes from its checkpoint. Before
        /// self-fencing, it kept running the attempt the coordinator had declared lost.
        @Test func workerSilentPastItsFencingDeadlineStopsItsAttempt() async throws {
            try await cluster { cluster in
                let worker = try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 30), via: admin).job
                try await cluster.waitForJob(job.id, via: admin, "checkpointed") { $0.latestCheckpoint.step >= 3 }
                worker.signal(SIGSTOP)
                try await cluster.waitForJob(job.id, via: admin, "attempt lost") { $0.attempts.last?.state == .lost }
                worker.signal(SIGCONT)
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                #expect(done.attempts.count == 2, "\(done.attempts)")
                // LOST, or CANCELLED when the worker reported its own stop after reconnecting.
                #expect([.lost, .cancelled].contains(done.attempts[0].state), "\(done.attempts)")
                #expect(done.attempts[1].resumedFromStep >= 3, "\(done.attempts)")
                #expect(worker.output.contains("stopping every attempt before the coordinator reassigns them"))
            }
        }

        @Test func drainedWorkerTakesNoNewJobsAndFinishesItsOwn() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 2, models: Self.sdxl)
                let admin = try await cluster.admin()
                let running = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 20), via: admin).job
                let w1 = try await workerID("w1", admin)
                try await cluster.waitForJob(running.id, via: admin, "running on w1") { $0.step >= 1 }
                try await cluster.startWorker("w2", gpus: 2, models: Self.sdxl)
                var drain = Flotilla_V1_DrainWorkerRequest()
                drain.worker = "w1"
                let drained = try await admin.request(drain, expecting: Flotilla_V1_DrainWorkerResponse.self)
                #expect(drained.worker.state == .draining)
                var later: [String] = []
                for n in 0..<4 {
                    later.append(try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 5, key: "later-\(n)"), via: admin).job.id)
                }
                let finished = try await cluster.waitForJob(running.id, via: admin, "succeeded on w1") { $0.state == .succeeded }
                #expect(finished.attempts.count == 1 && finished.attempts[0].workerID == w1)
                for id in later {
                    let job = try await cluster.waitForJob(id, via: admin, "succeeded") { $0.state == .succeeded }
                    #expect(job.attempts.allSatisfy { $0.workerID != w1 }, "job \(id) ran on the drained worker")
                }
            }
        }

        @Test func sigtermOnAWorkerCheckpointsAndHandsItsJobsBack() async throws {
            try await cluster { cluster in
                let models = "[{name: sdxl, executor: simulated, step_duration: 100ms, checkpoint_every: 1000, default_steps: 30}]"
                let first = try await cluster.startWorker("w1", gpus: 1, models: models)
                let admin = try await cluster.admin()
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 40), via: admin).job
                try await cluster.waitForJob(job.id, via: admin, "running") { $0.step >= 5 }
                first.signal(SIGTERM)
                #expect(await first.waitForExit(timeout: .seconds(20)), "the worker did not exit after SIGTERM")
                #expect(first.exitStatus == 0, "\(first.tail())")
                let handedBack = try await cluster.waitForJob(job.id, via: admin, "requeued with a checkpoint") {
                    $0.state == .queued && $0.latestCheckpoint.step >= 5
                }
                #expect(handedBack.attempts.first?.state == .preempted)
                try await cluster.startWorker("w2", gpus: 1, models: models)
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded on w2") { $0.state == .succeeded }
                #expect(done.attempts.last?.resumedFromStep == handedBack.latestCheckpoint.step)
            }
        }
    }
}
