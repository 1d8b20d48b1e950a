import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// The coordinator process as operators and users see it: health and metrics
    /// over HTTP, job watch streams, graceful SIGTERM, a locked data directory,
    /// and a restart that does not reschedule running work.
    @Suite struct CoordinatorServingTests {
        static let sdxl = "[{name: sdxl, executor: simulated, step_duration: 50ms, checkpoint_every: 5, default_steps: 20}]"

        @Test func healthMetricsAndAWatchedJob() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = ProcessClusterTests.RecoveryTests.fastHealth
                try await cluster.startCoordinator()
                #expect(try await httpGet(port: cluster.httpPort, path: "/healthz").status == 200)
                #expect(try await httpGet(port: cluster.httpPort, path: "/readyz").status == 200)
                #expect(try await httpGet(port: cluster.httpPort, path: "/nope").status == 404)
                try await cluster.startWorker("w1", gpus: 2, models: Self.sdxl)
                let client = try await cluster.connect(.client, "alice")
                let job = try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 20), via: client).job
                var watch = Flotilla_V1_WatchJobRequest()
                watch.jobID = job.id
                var states: [Flotilla_V1_JobState] = []
                var steps: [UInt64] = []
                for try await item in client.stream(watch) {
                    let event = try #require(item as? Flotilla_V1_JobEvent)
                    if states.last != event.state { states.append(event.state) }
                    steps.append(event.step)
                }
                #expect(states.first == .queued || states.first == .running)
                #expect(states.last == .succeeded)
                #expect(steps.max() == 20)
                #expect(steps.count > 3, "progress events: \(steps)")

                let metrics = try await httpGet(port: cluster.httpPort, path: "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains("flotilla_jobs_submitted_total 1"))
                #expect(metrics.body.contains("flotilla_jobs_finished_total{state=\"succeeded\"} 1"))
                #expect(metrics.body.contains("flotilla_workers{state=\"ready\"} 1.0"))
                #expect(metrics.body.contains("flotilla_submit_seconds_count 1"))
            }
        }

        @Test func sigtermStopsCleanlyAndTheDataDirectoryIsLocked() async throws {
            try await ClusterHarness.withCluster { cluster in
                let first = try await cluster.startCoordinator()
                // A second coordinator on the same data directory is refused while the first runs.
                let second = try ChildProcess(
                    name: "second", executable: productURL("flotilla-coordinator"),
                    arguments: ["--config", cluster.directory.appending("coordinator.yaml").path],
                    environment: ["FLOTILLA_LISTEN": "127.0.0.1:0", "FLOTILLA_HTTP_LISTEN": "127.0.0.1:0"],
                    logURL: cluster.directory.appending("second.log"))
                #expect(await second.waitForExit(timeout: .seconds(20)))
                #expect(second.exitStatus == 1)
                #expect(second.output.contains("lock"), "\(second.tail())")
                first.signal(SIGTERM)
                #expect(await first.waitForExit(timeout: .seconds(20)))
                #expect(first.exitStatus == 0, "\(first.tail())")
                #expect(first.output.contains("coordinator stopped"))
            }
        }

        @Test func invalidConfigurationExitsNamingTheKey() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.appending("bad.yaml")
            try "tls: {cert: a, key: b, ca: c}\nhealth: {heartbeat_timout: 5s}\n".write(to: config, atomically: true, encoding: .utf8)
            let result = try await runProcess(productURL("flotilla-coordinator"), arguments: ["--config", config.path])
            #expect(result.status == 2)
            #expect(result.stderr.contains("health.heartbeat_timout"), "\(result.stderr)")
            let env = try await runProcess(productURL("flotilla-coordinator"), arguments: ["--config", config.path],
                                           environment: ["FLOTILLA_SCHEDULER_TICK": "often", "PATH": "/usr/bin:/bin"])
            #expect(env.status == 2)
            #expect(env.stderr.contains("FLOTILLA_SCHEDULER_TICK"), "\(env.stderr)")
        }

        /// An outage shorter than the workers' self-fencing deadline (4.2 s with a 250 ms
        /// interval and a 12 s timeout) reschedules nothing. The deadline leaves room for a
        /// coordinator that takes seconds to start on a loaded machine (a 2.2 s one did not).
        @Test func aCoordinatorRestartDoesNotRescheduleRunningJobs() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = ProcessClusterTests.RecoveryTests.fastHealth
                    .merging(["health.heartbeat_timeout": "12s"]) { _, new in new }
                try await cluster.startCoordinator()
                let models = "[{name: sdxl, executor: simulated, step_duration: 100ms, checkpoint_every: 5, default_steps: 40}]"
                try await cluster.startWorker("w1", gpus: 2, models: models)
                try await cluster.startWorker("w2", gpus: 2, models: models)
                let admin = try await cluster.admin()
                var ids: [String] = []
                for n in 0..<4 {
                    ids.append(try await cluster.submit(ClusterHarness.spec(model: "sdxl", steps: 40, key: "r\(n)"), via: admin).job.id)
                }
                for id in ids { try await cluster.waitForJob(id, via: admin, "running") { $0.step >= 2 } }
                await admin.close()
                await cluster.coordinator?.killNow()
                try await Task.sleep(for: .milliseconds(500))
                try await cluster.startCoordinator()
                let again = try await cluster.admin()
                for id in ids {
                    let done = try await cluster.waitForJob(id, via: again, "succeeded") { $0.state == .succeeded }
                    #expect(done.attempts.count == 1, "job \(id) was rescheduled after the restart: \(done.attempts)")
                }
            }
        }
    }
}
