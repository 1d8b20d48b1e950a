import FlotillaPKI
import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// Failover drills against real processes on loopback (issue 9): the
    /// coordinator injects each fault through a worker's directive stream, the
    /// worker plays it for real (SIGKILL, silence, delays, a damaged file), and
    /// the report is checked against the jobs and their processes.
    /// Heartbeats 250 ms, SUSPECT after 500 ms, LOST after 2 s.
    @Suite struct DrillTests {
        static let sdxl = RecoveryTests.sdxl   // 100 ms steps, a checkpoint every 3
        static let allow = ["drills.allow": "true"]

        func cluster(_ extra: [String: String] = [:], _ body: (ClusterHarness) async throws -> Void) async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = RecoveryTests.fastHealth
                    .merging(["drills.enabled": "true"]) { _, new in new }
                    .merging(extra) { _, new in new }
                try await cluster.startCoordinator()
                try await body(cluster)
            }
        }

        static func drill(_ kind: Flotilla_V1_DrillRequest.Kind, _ configure: (inout Flotilla_V1_DrillRequest) -> Void = { _ in })
            -> Flotilla_V1_DrillRequest {
            var request = Flotilla_V1_DrillRequest()
            request.kind = kind
            request.timeoutMs = 30_000
            configure(&request)
            return request
        }

        static func run(_ request: Flotilla_V1_DrillRequest, via admin: FlotillaConnection) async throws -> Flotilla_V1_DrillReport {
            try await admin.request(request, expecting: Flotilla_V1_DrillReport.self, timeout: .seconds(60))
        }

        /// A job running on `worker` with a checkpoint past step 0.
        func checkpointedJob(on worker: String, _ cluster: ClusterHarness, _ admin: FlotillaConnection,
                             model: String = "sdxl", steps: UInt64 = 80) async throws -> Flotilla_V1_Job {
            let job = try await cluster.submit(ClusterHarness.spec(model: model, steps: steps), via: admin).job
            let id = try await RecoveryTests().workerID(worker, admin)
            return try await cluster.waitForJob(job.id, via: admin, "checkpointed on \(worker)") {
                $0.latestCheckpoint.step >= 3 && $0.attempts.last?.workerID == id && $0.state == .running
            }
        }

        @Test func killWorkerFromFlotillactlPassesWithJobsResumedFromTheirCheckpoints() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl, extra: Self.allow)
                let admin = try await cluster.admin()
                let job = try await checkpointedJob(on: "w1", cluster, admin)
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl, extra: Self.allow)
                let tls = try cluster.pki.node(.admin, "operator")
                let result = try await runProcess(
                    productURL("flotillactl"),
                    arguments: ["drill", "kill-worker", "--target", "w1", "--wait", "--drill-timeout", "30s",
                                "--addr", cluster.coordinatorAddress, "--cacert", tls.caCertificate.path,
                                "--cert", tls.certificate.path, "--key", tls.privateKey.path],
                    timeout: .seconds(60))
                #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(cluster.coordinator?.tail(30) ?? "")")
                #expect(result.stdout.contains("PASS"), "\(result.stdout)")
                #expect(await cluster.workers["w1"]?.waitForExit(timeout: .seconds(5)) == true, "w1 should have killed itself")

                let drills = try await admin.request(Flotilla_V1_ListDrillsRequest(), expecting: Flotilla_V1_ListDrillsResponse.self)
                let report = try #require(drills.drills.first)
                #expect(report.verdict == .pass, "\(report.reason)")
                #expect(report.startedBy == "operator")
                let recovery = try #require(report.jobs.first { $0.jobID == job.id })
                #expect(recovery.checkpointStep > 0)
                #expect(recovery.resumedStep >= recovery.checkpointStep, "\(recovery)")
                #expect(recovery.workerAfter == "w2")
                #expect(recovery.recoveryMs > 0 && recovery.recoveryMs <= 30_000)
                #expect(report.detectionMs > 0 && report.detectionMs < recovery.recoveryMs)
                #expect(report.jobsFailed == 0 && report.jobsRanTwice == 0)
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                #expect(done.attempts.last?.resumedFromStep == recovery.resumedStep)
            }
        }

        /// A process job that records `pid` per attempt, then runs the example stepper.
        static func recordingStepper(_ cluster: ClusterHarness) throws -> String {
            let script = cluster.directory.appending("recording-stepper.sh")
            let pids = cluster.directory.appending("pids").path
            try FileManager.default.createDirectory(atPath: pids, withIntermediateDirectories: true)
            let stepper = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("cluster-configs/jobs/stepper.sh").path
            try """
                #!/bin/sh
                echo "$$" > "\(pids)/$FLOTILLA_JOB_ID-a$FLOTILLA_ATTEMPT"
                exec \(stepper)
                """.write(to: script, atomically: true, encoding: .utf8)
            chmod(script.path, 0o755)
            return "[{name: stepper, executor: process, command: [\(script.path)], default_steps: 400, checkpoint_every: 5}]"
        }

        @Test func freezeWorkerPassesWithTheStaleAttemptFencedAndNoJobRunningTwice() async throws {
            try await cluster { cluster in
                let model = try Self.recordingStepper(cluster)
                try await cluster.startWorker("w1", gpus: 1, models: model, extra: Self.allow)
                let admin = try await cluster.admin()
                var spec = ClusterHarness.spec(model: "stepper", steps: 400)
                spec.params = ["step_ms": "50"]
                let job = try await cluster.submit(spec, via: admin).job
                try await cluster.waitForJob(job.id, via: admin, "checkpointed") { $0.latestCheckpoint.step >= 5 }
                try await cluster.startWorker("w2", gpus: 1, models: model, extra: Self.allow)
                let overlap = NoDoubleRunTests.Overlap(jobID: job.id, cluster: cluster)
                let report = try await Self.run(Self.drill(.freezeWorker) {
                    $0.target = "w1"
                    $0.durationMs = 4_000
                }, via: admin)
                let most = overlap.stop()
                #expect(report.verdict == .pass, "\(report.reason)\n\(report.timeline.joined(separator: "\n"))")
                #expect(most == 1, "\(most) processes of the job ran at once")
                let processes = NoDoubleRunTests.processes(of: job.id, cluster)
                #expect(processes["\(job.id)-a1"].map(NoDoubleRunTests.isAlive) == false, "the frozen attempt's process still runs")
                #expect(processes["\(job.id)-a2"].map(NoDoubleRunTests.isAlive) == true)
                #expect(report.jobsRanTwice == 0)
                let recovery = try #require(report.jobs.first)
                #expect(recovery.resumedStep >= 5 && recovery.workerAfter == "w2", "\(recovery)")
                #expect(report.timeline.contains { $0.contains("all targets heard from again") })
                #expect(cluster.workers["w1"]?.tail(400).contains("stopping every attempt before the coordinator reassigns them") == true)
            }
        }

        @Test func corruptCheckpointRestartsFromZeroAndTellsTheUser() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl, extra: Self.allow)
                let admin = try await cluster.admin()
                let job = try await checkpointedJob(on: "w1", cluster, admin)
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl, extra: Self.allow)
                let user = try await cluster.admin()
                var watch = Flotilla_V1_WatchJobRequest()
                watch.jobID = job.id
                let events = user.stream(watch)
                let messages = Task {
                    var seen: [String] = []
                    for try await event in events {
                        guard let event = event as? Flotilla_V1_JobEvent else { continue }
                        seen.append(event.message)
                        if event.message.contains("restarting from step 0") { break }
                    }
                    return seen
                }
                let report = try await Self.run(Self.drill(.corruptCheckpoint) { $0.jobID = job.id }, via: admin)
                #expect(report.verdict == .pass, "\(report.reason)\n\(report.timeline.joined(separator: "\n"))")
                #expect(report.target == job.id)
                #expect(report.jobs.first?.resumedStep == 0)
                #expect(report.timeline.contains { $0.contains("failed verification") })
                let seen = try await messages.value
                #expect(seen.contains { $0.contains("failed verification") && $0.contains("restarting from step 0") }, "\(seen)")
                let done = try await cluster.waitForJob(job.id, via: admin, "succeeded") { $0.state == .succeeded }
                #expect(done.attempts.last?.resumedFromStep == 0)
            }
        }

        @Test func slowWorkerPassesWithNoFailedJobs() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 2, models: Self.sdxl, extra: Self.allow)
                try await cluster.startWorker("w2", gpus: 2, models: Self.sdxl, extra: Self.allow)
                let admin = try await cluster.admin()
                for _ in 0..<12 { _ = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 8), via: admin) }
                // SUSPECT after 500 ms of silence with 250 ms heartbeats: 150 ms of delay stays below it.
                let report = try await Self.run(Self.drill(.slowWorker) {
                    $0.target = "w1"
                    $0.delayMs = 150
                    $0.durationMs = 2_000
                }, via: admin)
                #expect(report.verdict == .pass, "\(report.reason)\n\(report.timeline.joined(separator: "\n"))")
                #expect(report.phases.map(\.name) == ["before", "during", "after"])
                #expect(report.phases.allSatisfy { $0.jobsFailed == 0 && $0.workersLost == 0 })
                #expect(report.phases.reduce(0) { $0 + $1.jobsFinished } > 0)
                #expect(cluster.workers["w1"]?.tail(200).contains("delayed by") == true)
            }
        }

        @Test func failZonePassesWithItsJobsOnTheOtherZone() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("a1", gpus: 1, models: Self.sdxl, extra: Self.allow.merging(["labels.zone": "a"]) { $1 })
                let admin = try await cluster.admin()
                let job = try await checkpointedJob(on: "a1", cluster, admin)
                try await cluster.startWorker("b1", gpus: 1, models: Self.sdxl, extra: Self.allow.merging(["labels.zone": "b"]) { $1 })
                let report = try await Self.run(Self.drill(.failZone) {
                    $0.zone = "a"
                    $0.durationMs = 3_000
                }, via: admin)
                #expect(report.verdict == .pass, "\(report.reason)\n\(report.timeline.joined(separator: "\n"))")
                #expect(report.target == "zone a")
                #expect(report.jobs.first { $0.jobID == job.id }?.workerAfter == "b1")
                #expect(report.jobsRanTwice == 0)
            }
        }

        @Test func unsafeDrillsAreRefusedAndNothingIsInjected() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl, extra: Self.allow)
                let admin = try await cluster.admin()
                _ = try await checkpointedJob(on: "w1", cluster, admin)
                let refused = try await Self.run(Self.drill(.killWorker) { $0.target = "w1" }, via: admin)
                #expect(refused.verdict == .refused)
                #expect(refused.reason.contains("last healthy worker serving model sdxl"), "\(refused.reason)")
                #expect(refused.blastRadius.contains { $0.hasPrefix("UNSAFE:") })
                let dry = try await Self.run(Self.drill(.killWorker) { $0.target = "w1"; $0.dryRun = true; $0.force = true }, via: admin)
                #expect(dry.verdict == .dryRun)
                let drills = try await admin.request(Flotilla_V1_ListDrillsRequest(), expecting: Flotilla_V1_ListDrillsResponse.self)
                #expect(drills.drills.isEmpty)
                try await Task.sleep(for: .milliseconds(500))
                #expect(cluster.workers["w1"]?.isRunning == true)
            }
        }

        @Test func aWorkerThatDoesNotAllowDrillsIsNeverFaulted() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl)
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl)
                let admin = try await cluster.admin()
                let report = try await Self.run(Self.drill(.killWorker) { $0.target = "w1"; $0.force = true }, via: admin)
                #expect(report.verdict == .refused)
                #expect(report.reason.contains("drills.allow is false"), "\(report.reason)")
                // A kind this version does not know is a malformed request (§3.3);
                // one it knows but cannot run here is a precondition.
                for (kind, code) in [(Flotilla_V1_DrillRequest.Kind.UNRECOGNIZED(99), Flotilla_V1_ErrorCode.invalidArgument),
                                     (.leaderFailover, .failedPrecondition)] {
                    do {
                        _ = try await Self.run(Self.drill(kind), via: admin)
                        Issue.record("drill kind \(kind) was accepted")
                    } catch let error as FlotillaError {
                        #expect(error.code == code, "\(kind): \(error)")
                    }
                }
                #expect(cluster.workers["w1"]?.isRunning == true)
            }
        }

        @Test func aDrillPastItsDeadlineIsAbortedAndItsReportOutlivesARestart() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl, extra: Self.allow)
                let admin = try await cluster.admin()
                let job = try await checkpointedJob(on: "w1", cluster, admin)
                // w2 serves the model but is busy for longer than the deadline: the job cannot run again in time.
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl, extra: Self.allow)
                _ = try await checkpointedJob(on: "w2", cluster, admin, steps: 600)
                let report = try await Self.run(Self.drill(.killWorker) { $0.target = "w1"; $0.timeoutMs = 3_000 }, via: admin)
                #expect(report.verdict == .aborted)
                #expect(report.reason.contains("deadline"), "\(report.reason)")
                #expect(report.jobs.first { $0.jobID == job.id }?.recovered == false)

                let coordinator = try #require(cluster.coordinator)
                await coordinator.killNow()
                try await cluster.startCoordinator()
                let again = try await cluster.admin()
                var get = Flotilla_V1_GetDrillRequest()
                get.id = report.id
                let kept = try await again.request(get, expecting: Flotilla_V1_DrillReport.self)
                #expect(kept.verdict == .aborted)
                #expect(kept.reason == report.reason)
                #expect(kept.timeline == report.timeline)
            }
        }

        @Test func aDrillRunningWhenItsCoordinatorDiesEndsAbortedAndOneRunsAtATime() async throws {
            try await cluster { cluster in
                try await cluster.startWorker("w1", gpus: 1, models: Self.sdxl, extra: Self.allow)
                try await cluster.startWorker("w2", gpus: 1, models: Self.sdxl, extra: Self.allow)
                let admin = try await cluster.admin()
                let started = try await Self.run(Self.drill(.freezeWorker) {
                    $0.target = "w1"
                    $0.durationMs = 20_000
                    $0.detach = true
                }, via: admin)
                #expect(started.verdict == .running)
                await #expect(throws: FlotillaError.self) {
                    _ = try await Self.run(Self.drill(.freezeWorker) { $0.target = "w2"; $0.detach = true }, via: admin)
                }
                let coordinator = try #require(cluster.coordinator)
                await coordinator.killNow()
                try await cluster.startCoordinator()
                let again = try await cluster.admin()
                var get = Flotilla_V1_GetDrillRequest()
                get.id = started.id
                let kept = try await again.request(get, expecting: Flotilla_V1_DrillReport.self)
                #expect(kept.verdict == .aborted)
                #expect(kept.reason.contains("stopped before it ended"), "\(kept.reason)")
            }
        }

        @Test func onlyAdminsRunOrReadDrillsAndDisabledCoordinatorsRefuse() async throws {
            try await cluster(["drills.enabled": "false"]) { cluster in
                let client = try await cluster.connect(.client, "alice")
                let worker = try await cluster.connect(.worker, "w9")
                for connection in [client, worker] {
                    do {
                        _ = try await Self.run(Self.drill(.killWorker), via: connection)
                        Issue.record("a drill was accepted from a non-admin")
                    } catch let error as FlotillaError {
                        #expect(error.code == .permissionDenied)
                    }
                    do {
                        _ = try await connection.request(Flotilla_V1_ListDrillsRequest(), expecting: Flotilla_V1_ListDrillsResponse.self)
                        Issue.record("drills were listed for a non-admin")
                    } catch let error as FlotillaError {
                        #expect(error.code == .permissionDenied)
                    }
                }
                let admin = try await cluster.admin()
                do {
                    _ = try await Self.run(Self.drill(.killWorker), via: admin)
                    Issue.record("a disabled coordinator ran a drill")
                } catch let error as FlotillaError {
                    #expect(error.code == .failedPrecondition)
                    #expect(error.message.contains("drills.enabled"))
                }
            }
        }
    }
}
