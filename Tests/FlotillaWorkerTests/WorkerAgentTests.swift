import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaWorker
import Foundation
import Testing

@Suite struct WorkerAgentTests {
    @Test func registersItsGPUsAndModels() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        let registration = try #require(harness.coordinator.all(Flotilla_V1_RegisterWorkerRequest.self).first)
        #expect(registration.name == "w1")
        #expect(registration.gpus.map(\.index) == [0, 1] && registration.gpus[0].type == "A100")
        #expect(registration.models == ["sdxl", "slow"])
        #expect(registration.labels == ["zone": "test"])
        #expect(registration.software == WorkerSoftware.version)
        #expect(registration.running.isEmpty)
        let subscription = try #require(harness.coordinator.all(Flotilla_V1_SubscribeDirectivesRequest.self).first)
        #expect(subscription.workerID == "wkr-1")
        try await eventually("a heartbeat") { !harness.coordinator.all(Flotilla_V1_HeartbeatRequest.self).isEmpty }
        let heartbeat = try #require(harness.coordinator.all(Flotilla_V1_HeartbeatRequest.self).first)
        #expect(heartbeat.workerID == "wkr-1" && heartbeat.freeGpus == 2 && !heartbeat.draining)
    }

    @Test func anAssignmentIsRunCheckpointedAndReported() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        harness.coordinator.send(.assign("job-1", model: "sdxl", steps: 10, checkpointEvery: 3))
        try await eventually("the result") { !harness.coordinator.results(of: "job-1").isEmpty }
        let progress = harness.coordinator.progress(of: "job-1")
        #expect(progress.first?.step == 0 && progress.first?.state == .running, "the first report starts the attempt")
        #expect(progress.last?.step == 10 && progress.last?.totalSteps == 10)
        #expect(progress.map(\.step) == progress.map(\.step).sorted())
        let checkpoints = harness.coordinator.checkpoints(of: "job-1")
        #expect(checkpoints.map(\.checkpoint.step) == [3, 6, 9])
        for report in checkpoints {
            #expect(report.token == token(term: 1, attempt: 1) && report.checkpoint.attempt == 1)
            #expect(report.checkpoint.uri.hasPrefix("file:///"))
            #expect(report.checkpoint.createdUnixMs > 0)
            // The hash is the file's: the report verifies.
            #expect(try CheckpointVerifier.verify(report.checkpoint, within: harness.directory.appending("checkpoints").path).hasSuffix("/job-1/a1-s\(report.checkpoint.step).ckpt"))
        }
        let result = try #require(harness.coordinator.results(of: "job-1").first)
        #expect(result.state == .succeeded && result.step == 10 && result.token == token(term: 1, attempt: 1))
        try await eventually("the attempt to be forgotten") { await harness.agent.runningAttempts.isEmpty }
    }

    @Test func stopAttemptInAReportAckStopsTheAttemptSilently() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        harness.coordinator.refusedJobs.withLock { _ = $0.insert("job-2") }
        harness.coordinator.send(.assign("job-2", model: "slow", steps: 10_000))
        try await eventually("the first progress report") { !harness.coordinator.progress(of: "job-2").isEmpty }
        try await eventually("the attempt to stop") { await harness.agent.runningAttempts.isEmpty }
        let reports = harness.coordinator.progress(of: "job-2").count
        try await Task.sleep(for: .milliseconds(300))
        #expect(harness.coordinator.progress(of: "job-2").count == reports, "nothing more is sent for a stopped attempt")
        #expect(harness.coordinator.results(of: "job-2").isEmpty)
    }

    @Test func aCheckpointDirectiveReportsTheCheckpointThenPreempted() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        harness.coordinator.send(.assign("job-3", model: "slow", steps: 10_000))
        try await eventually("two steps") { harness.coordinator.progress(of: "job-3").contains { $0.step >= 2 } }
        harness.coordinator.send(.checkpoint("job-3"))
        try await eventually("the result") { !harness.coordinator.results(of: "job-3").isEmpty }
        let checkpoint = try #require(harness.coordinator.checkpoints(of: "job-3").last)
        let result = try #require(harness.coordinator.results(of: "job-3").first)
        #expect(result.state == .preempted)
        #expect(checkpoint.checkpoint.step >= 2 && result.step == checkpoint.checkpoint.step)
        let order = harness.coordinator.received.current.map { "\(type(of: $0))" }
        #expect(order.lastIndex(of: "\(Flotilla_V1_CheckpointReport.self)")! < order.lastIndex(of: "\(Flotilla_V1_AttemptResult.self)")!)
    }

    @Test func aStopDirectiveReportsCancelled() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        harness.coordinator.send(.assign("job-4", model: "slow", steps: 10_000))
        try await eventually("a step") { harness.coordinator.progress(of: "job-4").contains { $0.step >= 1 } }
        harness.coordinator.send(.stop("job-4"))
        try await eventually("the result") { !harness.coordinator.results(of: "job-4").isEmpty }
        #expect(harness.coordinator.results(of: "job-4").first?.state == .cancelled)
        #expect(harness.coordinator.checkpoints(of: "job-4").isEmpty)
    }

    @Test func aCorruptResumeCheckpointIsNotUsed() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        let path = harness.directory.appending("checkpoints/old.ckpt").path
        try FileManager.default.createDirectory(atPath: harness.directory.appending("checkpoints").path, withIntermediateDirectories: true)
        try Data("the real bytes".utf8).write(to: URL(fileURLWithPath: path))
        var checkpoint = Flotilla_V1_Checkpoint()
        checkpoint.jobID = "job-5"
        checkpoint.attempt = 1
        checkpoint.step = 4
        checkpoint.uri = "file://" + path
        checkpoint.sizeBytes = 14
        checkpoint.sha256Hex = String(repeating: "0", count: 64)
        harness.coordinator.send(.assign("job-5", model: "sdxl", steps: 10, attempt: 2, resumeFrom: checkpoint))
        try await eventually("the result") { !harness.coordinator.results(of: "job-5").isEmpty }
        let result = try #require(harness.coordinator.results(of: "job-5").first)
        #expect(result.state == .failed && result.retryable && result.checkpointUnusable && !result.modelFault)
        #expect(result.error.contains(checkpoint.uri))
        #expect(harness.coordinator.progress(of: "job-5").isEmpty, "the attempt must not run")
    }

    @Test func anUnknownModelFailsWithoutRetry() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        harness.coordinator.send(.assign("job-6", model: "mochi-1", steps: 10))
        try await eventually("the result") { !harness.coordinator.results(of: "job-6").isEmpty }
        let result = try #require(harness.coordinator.results(of: "job-6").first)
        #expect(result.state == .failed && !result.retryable)
        #expect(result.error == "model mochi-1 is not served by this worker")
    }

    @Test func drainCheckpointsRunningAttemptsAndStops() async throws {
        let harness = try await AgentHarness()
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        harness.coordinator.send(.assign("job-7", model: "slow", steps: 10_000))
        try await eventually("two steps") { harness.coordinator.progress(of: "job-7").contains { $0.step >= 2 } }
        await harness.agent.drain(reason: "SIGTERM")
        await harness.runner.value
        let notice = try #require(harness.coordinator.all(Flotilla_V1_DrainNotice.self).first)
        #expect(notice.workerID == "wkr-1" && notice.reason == "SIGTERM")
        #expect(harness.coordinator.results(of: "job-7").first?.state == .preempted)
        #expect(harness.coordinator.checkpoints(of: "job-7").count == 1)
    }
}
