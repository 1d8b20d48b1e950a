import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaWorker
import Foundation
import Testing

/// A job's CHECKPOINT lines name any path it likes; the worker refuses what it must not
/// hash or hand on, reports nothing for it, and the attempt carries on.
@Suite struct HostileCheckpointTests {
    static let hostile = ModelConfiguration(
        name: "hostile",
        executor: .process(command: ["/bin/sh", "-c", """
            echo "CHECKPOINT 5 /dev/zero"
            echo "CHECKPOINT 6 /etc/hostname"
            mkdir -p "$FLOTILLA_CHECKPOINT_DIR" && echo ok > "$FLOTILLA_CHECKPOINT_DIR/s7.ckpt"
            echo "CHECKPOINT 7 $FLOTILLA_CHECKPOINT_DIR/s7.ckpt"
            echo "PROGRESS 10 10"
            """], environment: [:]),
        defaultSteps: 10, checkpointEvery: 0)

    /// Before, `CHECKPOINT 5 /dev/zero` wedged the attempt forever at 100 % CPU.
    @Test func devZeroAndOutsidePathsAreRefusedAndTheAttemptStillEnds() async throws {
        let harness = try await AgentHarness(models: [Self.hostile])
        defer { Task { await harness.stop() } }
        try await harness.subscribed()
        harness.coordinator.send(.assign("job-1", model: "hostile", steps: 10, checkpointEvery: 0))
        try await eventually("the result") { !harness.coordinator.results(of: "job-1").isEmpty }
        let result = try #require(harness.coordinator.results(of: "job-1").first)
        #expect(result.state == .succeeded)
        // Only the checkpoint inside the checkpoint directory was reported.
        #expect(harness.coordinator.checkpoints(of: "job-1").map(\.checkpoint.step) == [7])
    }
}
