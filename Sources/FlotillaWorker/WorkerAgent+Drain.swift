import FlotillaProto
import Logging

/// Graceful shutdown (SIGTERM): tell the coordinator, checkpoint every
/// attempt, deliver the reports, then stop, all within `drain_grace`.
extension WorkerAgent {
    /// Starts the shutdown; `run()` returns once every attempt's result is
    /// acknowledged or `drain_grace` has passed.
    public func drain(reason: String) {
        guard shutdown == nil, !finished else { return }
        let grace = configuration.drainGrace
        shutdown = Shutdown(reason: reason, deadline: .now + grace)
        draining = true
        logger.notice("draining for shutdown: checkpointing running attempts", metadata: [
            "flotilla.reason": "\(reason)", "flotilla.running": "\(attempts.count)", "flotilla.grace_ms": "\(grace.milliseconds)",
        ])
        queueDrainNotice()
        // Most of the grace goes to the jobs; the rest to delivering their reports.
        let jobGrace = grace * 3 / 4
        for attempt in attempts.values {
            checkpoint(jobID: attempt.jobID, token: attempt.token, grace: jobGrace)
        }
        Task {
            try? await Task.sleep(for: grace)
            self.shutdownDeadlinePassed()
        }
        checkShutdown()
    }

    func queueDrainNotice() {
        guard let shutdown, let workerID else { return }
        var notice = Flotilla_V1_DrainNotice()
        notice.workerID = workerID
        notice.reason = shutdown.reason
        outbox.prependDrain(notice)
        kickCourier()
    }

    /// Finishes the shutdown once nothing is left to report. With no attempts and no
    /// connection there is nothing to wait for: the drain notice is a courtesy, and a
    /// container runtime kills a worker that takes longer than about 10 s.
    func checkShutdown() {
        guard shutdown != nil, !finished, attempts.isEmpty else { return }
        guard outbox.isEmpty || workerID == nil || session == nil else { return }
        logger.notice("drained: every attempt reported")
        finish()
    }

    private func shutdownDeadlinePassed() {
        guard !finished else { return }
        logger.warning("drain grace over; stopping with reports undelivered", metadata: [
            "flotilla.attempts": "\(attempts.count)", "flotilla.reports": "\(outbox.entries.count)",
        ])
        for attempt in attempts.values { attempt.execution?.cancel(grace: .zero) }
        finish()
    }

    private func finish() {
        finished = true
        interruptSession("shutting down")
    }
}
