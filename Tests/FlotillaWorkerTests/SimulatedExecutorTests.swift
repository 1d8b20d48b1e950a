import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaWorker
import Foundation
import Testing

@Suite struct SimulatedExecutorTests {
    /// Steps take no time: the tests exercise the logic, not the clock.
    static let instant: SimulatedExecutor.Sleep = { _ in await Task.yield() }

    func launch(_ directory: TemporaryDirectory, steps: UInt64, every: UInt64, resume: AttemptLaunch.ResumePoint? = nil,
                job: String = "job-1", attempt: UInt32 = 1) -> AttemptLaunch {
        AttemptLaunch(jobID: job, token: token(attempt: attempt), model: "sdxl", steps: steps, checkpointEvery: every,
                      resume: resume, checkpointDirectory: directory.path)
    }

    func progressSteps(_ events: [ExecutionEvent]) -> [UInt64] {
        events.compactMap { if case .progress(let step, _) = $0 { return step } else { return nil } }
    }

    func checkpoints(_ events: [ExecutionEvent]) -> [(step: UInt64, path: String)] {
        events.compactMap { if case .checkpoint(let step, let path) = $0 { return (step, path) } else { return nil } }
    }

    @Test func stepsAndCheckpointsEveryN() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let executor = SimulatedExecutor(stepDuration: .milliseconds(100), sleep: Self.instant)
        let events = try await events(of: try executor.start(launch(directory, steps: 10, every: 3)))
        #expect(progressSteps(events) == Array(1...10))
        #expect(events.contains(.progress(step: 10, total: 10)))
        let written = checkpoints(events)
        #expect(written.map(\.step) == [3, 6, 9])
        #expect(written[0].path == directory.path + "/job-1/a1-s3.ckpt")
        for checkpoint in written {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: checkpoint.path)).prefix(80), as: UTF8.self)
            #expect(text.contains("job: job-1") && text.contains("step: \(checkpoint.step)\n"))
            #expect(try CheckpointDigest(file: checkpoint.path).sizeBytes > 64 * 1024)
        }
        #expect(events.last == .finished(.succeeded))
    }

    @Test func resumesAfterTheCheckpointStep() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let executor = SimulatedExecutor(stepDuration: .milliseconds(100), sleep: Self.instant)
        let resume = AttemptLaunch.ResumePoint(path: "/nowhere", step: 6)
        let events = try await events(of: try executor.start(launch(directory, steps: 10, every: 3, resume: resume, attempt: 2)))
        #expect(progressSteps(events) == [7, 8, 9, 10])
        #expect(checkpoints(events).map(\.path) == [directory.path + "/job-1/a2-s9.ckpt"])
        #expect(events.last == .finished(.succeeded))
    }

    @Test func zeroStepsSucceedAtOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let executor = SimulatedExecutor(stepDuration: .seconds(60), failureRate: 1, seed: 1)
        let events = try await events(of: try executor.start(launch(directory, steps: 0, every: 3)), timeout: .seconds(2))
        #expect(events == [.finished(.succeeded)])
    }

    @Test func aSeededFailureIsRepeatable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let executor = SimulatedExecutor(stepDuration: .milliseconds(1), failureRate: 1, seed: 42, sleep: Self.instant)
        let first = try await events(of: try executor.start(launch(directory, steps: 50, every: 0)))
        let second = try await events(of: try executor.start(launch(directory, steps: 50, every: 0)))
        guard case .finished(.failed(let exitCode, let error, let modelFault))? = first.last else {
            Issue.record("expected a failure, got \(String(describing: first.last))")
            return
        }
        #expect(exitCode != 0 && modelFault)
        #expect(error.contains("simulated failure"))
        #expect(first == second)
        let failedAt = (progressSteps(first).last ?? 0) + 1
        #expect((1...50).contains(failedAt))

        let never = SimulatedExecutor(stepDuration: .milliseconds(1), failureRate: 0, seed: 42, sleep: Self.instant)
        for job in ["a", "b", "c"] {
            let events = try await events(of: try never.start(launch(directory, steps: 20, every: 0, job: job)))
            #expect(events.last == .finished(.succeeded))
        }
    }

    @Test func aFailureRateFailsAboutThatShareOfAttempts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let executor = SimulatedExecutor(stepDuration: .seconds(60), failureRate: 0.3, seed: 9, sleep: { _ in try await Task.sleep(for: .seconds(60)) })
        var failing = 0
        for job in 0..<400 {
            let execution = try executor.start(launch(directory, steps: 10, every: 0, job: "job-\(job)"))
            if (execution as? SimulatedExecution)?.failureStep != nil { failing += 1 }
            execution.cancel(grace: .zero)
        }
        #expect((80...160).contains(failing), "\(failing) of 400 attempts would fail at a rate of 0.3")
    }

    @Test func checkpointAndStopWritesTheCurrentStep() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Three quick steps, then a step that would take a minute.
        let calls = Locked(0)
        let executor = SimulatedExecutor(stepDuration: .seconds(60), sleep: { duration in
            let call = calls.withLock { value -> Int in
                value += 1
                return value
            }
            if call > 3 { try await Task.sleep(for: duration) }
        })
        let execution = try executor.start(launch(directory, steps: 100, every: 50))
        let log = EventLog(execution)
        try await eventually("three steps") { log.lastStep == 3 }
        execution.checkpointAndStop(grace: .seconds(5))
        #expect(try await log.finished(timeout: .seconds(5)) == .stoppedForCheckpoint)
        #expect(checkpoints(log.current).map(\.step) == [3])
        #expect(FileManager.default.fileExists(atPath: directory.path + "/job-1/a1-s3.ckpt"))
    }

    @Test func cancelStopsWithoutACheckpoint() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let executor = SimulatedExecutor(stepDuration: .seconds(60))
        let execution = try executor.start(launch(directory, steps: 100, every: 1))
        execution.cancel(grace: .seconds(1))
        let events = try await events(of: execution, timeout: .seconds(5))
        #expect(events == [.finished(.cancelled)])
    }
}
