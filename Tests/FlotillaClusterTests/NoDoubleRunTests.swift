import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// A job never runs twice (issue 8, item 3): with a job that ignores SIGTERM and SIGPIPE,
    /// its worker is killed, stopped, and cut off from the coordinator, and at no sampled
    /// moment do two processes of the job run at once.
    @Suite struct NoDoubleRunTests {
        static let health = RecoveryTests.fastHealth  // heartbeats 250 ms, lost after 2 s

        /// Writes `pid attempt` to the shared directory, then never finishes on its own.
        static func stubbornModel(_ cluster: ClusterHarness) throws -> String {
            let script = cluster.directory.appending("stubborn.sh")
            let pids = cluster.directory.appending("pids").path
            try FileManager.default.createDirectory(atPath: pids, withIntermediateDirectories: true)
            try """
                #!/bin/sh
                trap '' TERM INT HUP PIPE USR1
                echo "$$" > "\(pids)/$FLOTILLA_JOB_ID-a$FLOTILLA_ATTEMPT"
                i=0
                while :; do i=$((i+1)); echo "PROGRESS $i 1000000"; sleep 0.05; done
                """.write(to: script, atomically: true, encoding: .utf8)
            chmod(script.path, 0o755)
            return "[{name: stubborn, executor: process, command: [\(script.path)], default_steps: 1000000}]"
        }

        /// The job's processes by attempt, as they recorded themselves.
        static func processes(of jobID: String, _ cluster: ClusterHarness) -> [String: pid_t] {
            let directory = cluster.directory.appending("pids").path
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            var found: [String: pid_t] = [:]
            for name in names where name.hasPrefix(jobID + "-") {
                if let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8),
                   let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) { found[name] = pid }
            }
            return found
        }

        static func isAlive(_ pid: pid_t) -> Bool { ProcessFacts.isAlive(pid) }

        /// Samples every 20 ms until stopped; records the most processes of the job alive at once.
        final class Overlap: @unchecked Sendable {
            private let lock = NSLock()
            private var most = 0
            private var task: Task<Void, Never>?

            init(jobID: String, cluster: ClusterHarness) {
                task = Task.detached { [self] in
                    while !Task.isCancelled {
                        let alive = NoDoubleRunTests.processes(of: jobID, cluster).values.filter(NoDoubleRunTests.isAlive).count
                        lock.withLock { most = max(most, alive) }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }

            func stop() -> Int {
                task?.cancel()
                return lock.withLock { most }
            }
        }

        static func waitFor(_ what: String, timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws {
            let deadline = ContinuousClock.now + timeout
            while !condition() {
                guard ContinuousClock.now < deadline else { throw ChildProcessError("timed out waiting for \(what)") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        func running(_ cluster: ClusterHarness) async throws -> (job: String, pid: pid_t, admin: FlotillaConnection) {
            let admin = try await cluster.admin()
            let job = try await cluster.submit(ClusterHarness.spec(model: "stubborn"), via: admin).job.id
            try await Self.waitFor("the first attempt's process") { Self.processes(of: job, cluster)["\(job)-a1"] != nil }
            return (job, try #require(Self.processes(of: job, cluster)["\(job)-a1"]), admin)
        }

        @Test func aKilledWorkersJobDiesWithIt() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = Self.health
                try await cluster.startCoordinator()
                let models = try Self.stubbornModel(cluster)
                let worker = try await cluster.startWorker("w1", gpus: 1, models: models)
                let (_, pid, _) = try await running(cluster)
                await worker.killNow()
                // The lease pipe closed with the worker: the supervisor kills the job at once.
                try await Self.waitFor("the job to die with its worker", timeout: .seconds(2)) { !Self.isAlive(pid) }
            }
        }

        @Test func aStoppedWorkersJobDiesBeforeItIsReassigned() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = Self.health
                try await cluster.startCoordinator()
                let models = try Self.stubbornModel(cluster)
                let first = try await cluster.startWorker("w1", gpus: 1, models: models)
                let (job, pid, admin) = try await running(cluster)
                let overlap = Overlap(jobID: job, cluster: cluster)
                try await cluster.startWorker("w2", gpus: 1, models: models)
                let stopped = ContinuousClock.now
                first.signal(SIGSTOP)
                defer { first.signal(SIGCONT) }
                try await Self.waitFor("the stopped worker's job to die", timeout: .seconds(5)) { !Self.isAlive(pid) }
                let died = ContinuousClock.now - stopped
                // Lease 583 ms after the last renewal (SelfFencing with 250 ms / 2 s); generous for CI.
                #expect(died < .seconds(2), "the job outlived its stopped worker by \(died)")
                _ = try await cluster.waitForJob(job, via: admin, "running again on w2") { $0.attempts.count == 2 }
                try await Self.waitFor("the second attempt's process") { Self.processes(of: job, cluster)["\(job)-a2"] != nil }
                try await Task.sleep(for: .milliseconds(200))
                #expect(overlap.stop() == 1, "two processes of job \(job) ran at once")
            }
        }

        @Test func aWorkerCutOffFromItsCoordinatorFencesItself() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = Self.health
                let coordinator = try await cluster.startCoordinator()
                let models = try Self.stubbornModel(cluster)
                let worker = try await cluster.startWorker("w1", gpus: 1, models: models)
                let (job, pid, _) = try await running(cluster)
                let overlap = Overlap(jobID: job, cluster: cluster)
                // The coordinator stops answering: the worker's heartbeats go unacknowledged.
                let cut = ContinuousClock.now
                coordinator.signal(SIGSTOP)
                try await Self.waitFor("the worker to fence itself", timeout: .seconds(6)) { !Self.isAlive(pid) }
                let died = ContinuousClock.now - cut
                #expect(died < .seconds(2), "fenced after \(died); the coordinator would reassign after 2 s")
                // The worker fences itself at 833 ms; on a loaded machine its supervisor's lease
                // (583 ms without renewal) may get there first. Either way, the job is dead.
                try await Self.waitFor("the worker to say why", timeout: .seconds(3)) {
                    worker.output.contains("stopping every attempt before the coordinator reassigns them")
                        || worker.output.contains("lease lapsed")
                }
                coordinator.signal(SIGCONT)
                // Back in touch, the job runs again, once.
                try await Self.waitFor("the job to run again", timeout: .seconds(20)) {
                    Self.processes(of: job, cluster).values.contains(where: Self.isAlive)
                }
                try await Task.sleep(for: .milliseconds(500))
                #expect(overlap.stop() == 1, "two processes of job \(job) ran at once")
            }
        }
    }
}
