import FlotillaProto
import Logging

/// Graceful shutdown (SIGTERM): tell the coordinator, checkpoint every attempt, deliver
/// the reports, then stop, all within `drain_grace`. `WorkerCore` decides; this carries out.
extension WorkerAgent {
    /// Starts the shutdown; `run()` returns once every attempt's result is
    /// acknowledged or `drain_grace` has passed.
    public func drain(reason: String) {
        guard shutdownReason == nil, !finished else { return }
        shutdownReason = reason
        draining = true
        logger.notice("draining for shutdown: checkpointing running attempts", metadata: [
            "flotilla.reason": "\(reason)", "flotilla.running": "\(attempts.count)",
            "flotilla.grace_ms": "\(configuration.drainGrace.milliseconds)",
        ])
        workChanged()
        perform(core.on(.shutdownRequested(reason: reason, grace: configuration.drainGrace), at: .now))
    }

    func queueDrainNotice() {
        guard let shutdownReason, let workerID else { return }
        var notice = Flotilla_V1_DrainNotice()
        notice.workerID = workerID
        notice.reason = shutdownReason
        outbox.prependDrain(notice)
        kickCourier()
    }

    /// Tells the core what is left to do: attempts, undelivered reports, a session.
    func workChanged() {
        let work = WorkerCore.Work(attempts: attempts.count, reportsPending: !outbox.isEmpty, connected: session != nil)
        perform(core.on(.workChanged(work), at: .now))
    }

    /// Carries out the core's directives.
    func perform(_ directives: [WorkerCore.Directive]) {
        for directive in directives {
            switch directive {
            case .renewLeases:
                for attempt in attempts.values { attempt.execution?.renewLease() }
            case .fence(let after):
                logger.warning("no heartbeat acknowledged for \(after); stopping every attempt before the coordinator reassigns them", metadata: [
                    "flotilla.attempts": "\(attempts.keys.sorted().joined(separator: ","))",
                ])
                for attempt in attempts.values where !attempt.isEnded { attempt.execution?.cancel(grace: .zero) }
            case .unfence:
                logger.notice("the coordinator acknowledges this worker again; accepting work")
            case .sendDrainNotice:
                queueDrainNotice()
            case .checkpointAll(let grace):
                for attempt in attempts.values { checkpoint(jobID: attempt.jobID, token: attempt.token, grace: grace) }
            case .stopAllNow:
                for attempt in attempts.values { attempt.execution?.cancel(grace: .zero) }
            case .finish(.drained):
                logger.notice("drained: every attempt reported")
                interruptSession("shutting down")
            case .finish(.graceExpired(let left)):
                logger.warning("drain grace over; stopping with reports undelivered", metadata: [
                    "flotilla.attempts": "\(left)", "flotilla.reports": "\(outbox.entries.count)",
                ])
                interruptSession("shutting down")
            }
        }
    }
}
