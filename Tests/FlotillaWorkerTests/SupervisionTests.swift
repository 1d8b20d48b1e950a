import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaWorker
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A job can never outlive its worker's claim on it (issue 8, item 3).
@Suite struct SupervisionTests {
    /// Ignores every polite signal and SIGPIPE, and says its pid.
    static let stubborn = """
        trap '' TERM INT HUP PIPE USR1
        echo $$ > "$FLOTILLA_CHECKPOINT_DIR/pid"
        while :; do echo "PROGRESS 1 100"; sleep 0.05; done
        """

    static func isAlive(_ pid: pid_t) -> Bool { ProcessFacts.isAlive(pid) }

    static func pid(in directory: String, timeout: Duration = .seconds(10)) async throws -> pid_t {
        let path = directory + "/pid"
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return pid }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ChildProcessError("the job never wrote its pid")
    }

    static func waitUntilDead(_ pid: pid_t, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if !isAlive(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !isAlive(pid)
    }

    func started(_ directory: TemporaryDirectory, leaseTimeout: Duration) throws -> (any AttemptExecution, String) {
        let script = directory.appending("stubborn.sh").path
        try ("#!/bin/sh\n" + Self.stubborn + "\n").write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        var launch = AttemptLaunch(jobID: "job-1", token: token(term: 1, attempt: 1), model: "stubborn", steps: 100,
                                   checkpointEvery: 0, checkpointDirectory: directory.appending("checkpoints").path)
        launch.leaseTimeout = leaseTimeout
        let executor = ProcessExecutor(command: [script], supervisor: try #require(JobSupervisor.executable))
        return (try executor.start(launch), directory.appending("checkpoints").path + "/job-1/a1")
    }

    @Test func aJobLivesWhileRenewedAndDiesWhenRenewalsStop() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (execution, attemptDirectory) = try started(directory, leaseTimeout: .milliseconds(400))
        let pid = try await Self.pid(in: attemptDirectory)
        for _ in 0..<20 {
            execution.renewLease()
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(Self.isAlive(pid), "renewed for 1 s with a 400 ms lease, yet the job died")
        // Renewals stop, as when the worker is stopped (SIGSTOP) or fences itself.
        let stopped = ContinuousClock.now
        #expect(await Self.waitUntilDead(pid, within: .seconds(3)))
        #expect(ContinuousClock.now - stopped >= .milliseconds(300))
        var outcome: ExecutionOutcome?
        for await event in execution.events { if case .finished(let ending) = event { outcome = ending } }
        #expect(outcome == .failed(exitCode: -9, errorTail: "flotilla-supervise: the worker's lease lapsed (400 ms without renewal); killing the job", modelFault: true))
    }

    @Test func theSupervisorPassesOnTheJobsExitStatus() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = directory.appending("exit3.sh").path
        try "#!/bin/sh\necho \"PROGRESS 1 1\"\necho oops >&2\nexit 3\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        var launch = AttemptLaunch(jobID: "job-2", token: token(term: 1, attempt: 1), model: "m", steps: 1,
                                   checkpointEvery: 0, checkpointDirectory: directory.appending("checkpoints").path)
        launch.leaseTimeout = .seconds(5)
        let execution = try ProcessExecutor(command: [script], supervisor: try #require(JobSupervisor.executable)).start(launch)
        var events: [ExecutionEvent] = []
        for await event in execution.events { events.append(event) }
        #expect(events == [.progress(step: 1, total: 1), .finished(.failed(exitCode: 3, errorTail: "oops", modelFault: true))])
    }

    /// A restarted worker stops what its previous incarnation left, even without a supervisor.
    @Test func leftoverProcessGroupsAreStopped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let leftovers = LeftoverJobs(dataDirectory: directory.path)
        let process = try SpawnedProcess.spawn("/bin/sh", arguments: ["-c", "trap '' TERM PIPE; sleep 60 & wait"], environment: [:])
        leftovers.record(pgid: process.pid)
        try await Task.sleep(for: .milliseconds(100))
        let members = LeftoverJobs.members(ofGroup: process.pid)
        #expect(members.count == 2, "the shell and its sleep")
        let killed = leftovers.stopAll()
        #expect(Set(killed) == Set(members))
        _ = await process.exit()
        for pid in members { #expect(await Self.waitUntilDead(pid, within: .seconds(3))) }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: leftovers.directory))?.isEmpty ?? true)
    }

    @Test func fencingDeadlinesFallBeforeTheCoordinatorsTimeout() {
        var fencing = SelfFencing(heartbeatInterval: .seconds(5), heartbeatTimeout: .seconds(15))
        #expect(fencing.fenceAfter == .seconds(5) + .seconds(10) / 3)
        #expect(fencing.leaseTimeout == (.seconds(10) - .seconds(10) / 3) / 2)
        #expect(fencing.fenceAfter + fencing.leaseTimeout < fencing.heartbeatTimeout)
        let start = ContinuousClock.now
        #expect(fencing.isFenced(at: start), "nothing runs before the first acknowledgement")
        fencing.acknowledged(at: start)
        #expect(!fencing.isFenced(at: start + .milliseconds(8_333)))
        #expect(fencing.isFenced(at: start + .milliseconds(8_334)))
        fencing.acknowledged(at: start + .seconds(9))
        #expect(!fencing.isFenced(at: start + .seconds(11)))
        // Short test timers keep the same proportions.
        let quick = SelfFencing(heartbeatInterval: .milliseconds(200), heartbeatTimeout: .seconds(2))
        #expect(quick.fenceAfter == .milliseconds(800))
        #expect(quick.leaseTimeout == .milliseconds(600))
        #expect(quick.renewInterval == .milliseconds(100))
    }
}
