import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaWorker
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessExecutorTests {
    func script(_ directory: TemporaryDirectory, _ body: String) throws -> String {
        let path = directory.appending("job-\(UUID().uuidString.prefix(8)).sh").path
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    func launch(_ directory: TemporaryDirectory, steps: UInt64 = 5, every: UInt64 = 0, params: [String: String] = [:],
                resume: AttemptLaunch.ResumePoint? = nil, attempt: UInt32 = 1) -> AttemptLaunch {
        AttemptLaunch(jobID: "job-7", token: token(term: 2, attempt: attempt), model: "stepper", steps: steps,
                      checkpointEvery: every, gpuIndices: [1, 3], params: params, resume: resume,
                      checkpointDirectory: directory.appending("checkpoints").path)
    }

    @Test func progressAndCheckpointLinesBecomeEvents() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try script(directory, """
            echo "PROGRESS 1 3"
            echo "loading weights"
            echo "ckpt" > "$FLOTILLA_CHECKPOINT_DIR/one.ckpt"
            echo "CHECKPOINT 1 one.ckpt"
            echo "PROGRESS 2 3"
            echo "CHECKPOINT 2 /abs/two.ckpt"
            echo "PROGRESS 3 3"
            """)
        let events = try await events(of: try ProcessExecutor(command: [path]).start(launch(directory)))
        let attemptDirectory = directory.appending("checkpoints").path + "/job-7/a1"
        #expect(events == [
            .progress(step: 1, total: 3), .checkpoint(step: 1, path: attemptDirectory + "/one.ckpt"),
            .progress(step: 2, total: 3), .checkpoint(step: 2, path: "/abs/two.ckpt"), .progress(step: 3, total: 3),
            .finished(.succeeded),
        ])
    }

    @Test func jobLinesAreParsedStrictly() {
        #expect(JobLine("PROGRESS 3 10") == .progress(step: 3, total: 10))
        #expect(JobLine("PROGRESS  3   10 ") == .progress(step: 3, total: 10))
        #expect(JobLine("CHECKPOINT 4 /data/my ckpt.bin") == .checkpoint(step: 4, path: "/data/my ckpt.bin"))
        #expect(JobLine("PROGRESS three 10") == .other("PROGRESS three 10"))
        #expect(JobLine("PROGRESS 3") == .other("PROGRESS 3"))
        #expect(JobLine("progress 3 10") == .other("progress 3 10"))
        #expect(JobLine("CHECKPOINT 4") == .other("CHECKPOINT 4"))
    }

    @Test func theJobGetsItsEnvironment() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try script(directory, #"env | grep -E '^(FLOTILLA_|CUDA_VISIBLE_DEVICES=|MODEL_HOME=)' | sort > "$FLOTILLA_CHECKPOINT_DIR/env.txt""#)
        let resume = AttemptLaunch.ResumePoint(path: directory.appending("old.ckpt").path, step: 4)
        let executor = ProcessExecutor(command: [path], environment: ["MODEL_HOME": "/models", "FLOTILLA_STEPS": "ignored"])
        let launch = launch(directory, steps: 9, every: 3, params: ["step.ms": "5", "prompt": "a \"cat\""], resume: resume, attempt: 2)
        #expect(try await events(of: try executor.start(launch)) == [.finished(.succeeded)])
        let attemptDirectory = directory.appending("checkpoints").path + "/job-7/a2"
        let lines = try String(contentsOfFile: attemptDirectory + "/env.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let expected = [
            "CUDA_VISIBLE_DEVICES=1,3", "FLOTILLA_ATTEMPT=2", "FLOTILLA_CHECKPOINT_DIR=\(attemptDirectory)",
            "FLOTILLA_CHECKPOINT_EVERY=3", "FLOTILLA_GPUS=1,3", "FLOTILLA_JOB_ID=job-7", "FLOTILLA_MODEL=stepper",
            #"FLOTILLA_PARAMS={"prompt":"a \"cat\"","step.ms":"5"}"#, #"FLOTILLA_PARAM_PROMPT=a "cat""#, "FLOTILLA_PARAM_STEP_MS=5",
            "FLOTILLA_RESUME_FROM=\(resume.path)", "FLOTILLA_RESUME_STEP=4", "FLOTILLA_STEPS=9", "MODEL_HOME=/models",
        ]
        #expect(lines == expected)
    }

    @Test func aFailureCarriesTheExitCodeAndTheLastStderrLines() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try script(directory, """
            echo "PROGRESS 1 5"
            i=1; while [ $i -le 25 ]; do echo "error line $i" >&2; i=$((i+1)); done
            exit 7
            """)
        let events = try await events(of: try ProcessExecutor(command: [path]).start(launch(directory)))
        guard case .finished(.failed(let exitCode, let tail, let modelFault))? = events.last else {
            Issue.record("expected a failure, got \(events)")
            return
        }
        #expect(exitCode == 7 && modelFault)
        #expect(tail.split(separator: "\n").map(String.init) == (6...25).map { "error line \($0)" })
    }

    @Test func aJobKilledByASignalReportsTheNegatedSignal() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try script(directory, "kill -KILL $$")
        let events = try await events(of: try ProcessExecutor(command: [path]).start(launch(directory)))
        guard case .finished(.failed(let exitCode, let tail, true))? = events.last else {
            Issue.record("expected a failure, got \(events)")
            return
        }
        #expect(exitCode == -SIGKILL)
        #expect(tail.contains("signal 9"))
    }

    @Test func aMissingCommandFailsToStart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: SpawnedProcess.SpawnError.self) {
            try ProcessExecutor(command: [directory.appending("no-such-job").path]).start(launch(directory))
        }
    }

    @Test func cancelEscalatesToSIGKILLForAJobIgnoringSIGTERM() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try script(directory, """
            trap '' TERM
            echo "PROGRESS 1 1000"
            while true; do sleep 0.05; done
            """)
        let execution = try ProcessExecutor(command: [path]).start(launch(directory, steps: 1000))
        let log = EventLog(execution)
        try await eventually("the job to start") { log.lastStep == 1 }
        let started = ContinuousClock.now
        execution.cancel(grace: .milliseconds(400))
        #expect(try await log.finished(timeout: .seconds(10)) == .cancelled)
        let took = ContinuousClock.now - started
        #expect(took >= .milliseconds(400), "SIGKILL came before the grace: \(took)")
        #expect(took < .seconds(5))
    }

    @Test func cancelLetsAJobStopCleanlyOnSIGTERM() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let execution = try ProcessExecutor(command: [stepperScript])
            .start(launch(directory, steps: 1000, params: ["STEP_MS": "20"]))
        let log = EventLog(execution)
        try await eventually("two steps") { log.lastStep >= 2 }
        let started = ContinuousClock.now
        execution.cancel(grace: .seconds(10))
        #expect(try await log.finished(timeout: .seconds(10)) == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func stepperRunsChecksAndResumes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let executor = ProcessExecutor(command: [stepperScript])
        let first = try await events(of: try executor.start(launch(directory, steps: 5, every: 2, params: ["STEP_MS": "5"])))
        let attemptDirectory = directory.appending("checkpoints").path + "/job-7/a1"
        #expect(first == [
            .progress(step: 1, total: 5), .progress(step: 2, total: 5), .checkpoint(step: 2, path: attemptDirectory + "/step-2.ckpt"),
            .progress(step: 3, total: 5), .progress(step: 4, total: 5), .checkpoint(step: 4, path: attemptDirectory + "/step-4.ckpt"),
            .progress(step: 5, total: 5), .finished(.succeeded),
        ])
        let resume = AttemptLaunch.ResumePoint(path: attemptDirectory + "/step-4.ckpt", step: 4)
        let second = try await events(of: try executor.start(
            launch(directory, steps: 6, every: 0, params: ["STEP_MS": "5"], resume: resume, attempt: 2)))
        #expect(second == [.progress(step: 5, total: 6), .progress(step: 6, total: 6), .finished(.succeeded)])
    }

    @Test func stepperFailsAtTheStepItIsTold() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let events = try await events(of: try ProcessExecutor(command: [stepperScript])
            .start(launch(directory, steps: 5, params: ["STEP_MS": "5", "FAIL_AT_STEP": "3"])))
        #expect(events.last == .finished(.failed(exitCode: 3, errorTail: "stepper: simulated failure at step 3", modelFault: true)))
    }

    @Test func checkpointAndStopSendsSIGUSR1() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let execution = try ProcessExecutor(command: [stepperScript])
            .start(launch(directory, steps: 1000, every: 500, params: ["STEP_MS": "20"]))
        let log = EventLog(execution)
        try await eventually("three steps") { log.lastStep >= 3 }
        let started = ContinuousClock.now
        execution.checkpointAndStop(grace: .seconds(10))
        #expect(try await log.finished(timeout: .seconds(10)) == .stoppedForCheckpoint)
        #expect(ContinuousClock.now - started < .seconds(5), "the job should stop on SIGUSR1, not wait for SIGTERM")
        let written = log.current.compactMap { event -> (UInt64, String)? in
            if case .checkpoint(let step, let path) = event { return (step, path) } else { return nil }
        }
        #expect(written.count == 1)
        if let (step, path) = written.first {
            #expect(step >= 3)
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains("step: \(step)\n"))
        }
    }
}
