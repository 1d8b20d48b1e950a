import Logging

/// Self-fencing: the worker stops its own attempts when the coordinator has not
/// acknowledged it for `SelfFencing.fenceAfter`, and renews its jobs' supervisor leases
/// only while it has not (PROTOCOL.md §11.3, "Self-fencing").
extension WorkerAgent {
    func acknowledged() {
        fencing.acknowledged(at: .now)
        if selfFenced {
            selfFenced = false
            logger.notice("the coordinator acknowledges this worker again; accepting work")
        }
    }

    /// Runs until cancelled: each tick renews every live attempt's lease, or fences.
    func renewLeases() async {
        while !Task.isCancelled {
            tickLeases(at: .now)
            try? await Task.sleep(for: fencing.renewInterval)
        }
    }

    func tickLeases(at now: ContinuousClock.Instant) {
        guard !attempts.isEmpty else { return }
        guard fencing.isFenced(at: now) else {
            for attempt in attempts.values { attempt.execution?.renewLease() }
            return
        }
        guard !selfFenced else { return }
        selfFenced = true
        logger.warning("no heartbeat acknowledged for \(fencing.fenceAfter); stopping every attempt before the coordinator reassigns them", metadata: [
            "flotilla.attempts": "\(attempts.keys.sorted().joined(separator: ","))",
        ])
        for attempt in attempts.values where !attempt.isEnded {
            attempt.execution?.cancel(grace: .zero)
        }
    }
}
