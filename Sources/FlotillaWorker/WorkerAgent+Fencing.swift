import Logging

/// Self-fencing: the worker stops its own attempts when the coordinator has not
/// acknowledged it for `SelfFencing.fenceAfter`, and renews its jobs' supervisor leases
/// only while it has not (PROTOCOL.md §11.3, "Self-fencing"). `WorkerCore` decides.
extension WorkerAgent {
    func acknowledged() {
        perform(core.on(.heartbeatAcknowledged, at: .now))
    }

    /// Runs until cancelled: the core's timer, which renews leases, fences, and ends a
    /// shutdown whose grace has passed.
    func renewLeases() async {
        while !Task.isCancelled {
            perform(core.on(.tick, at: .now))
            try? await Task.sleep(for: core.fencing.renewInterval)
        }
    }
}
