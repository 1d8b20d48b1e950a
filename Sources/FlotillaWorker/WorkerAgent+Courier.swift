import FlotillaProto
import FlotillaTransport
import FlotillaWire
import Logging

/// Delivers the outbox in order over the session's connection, one report at a time,
/// and carries out `WorkerCore.verdict` on each answer.
extension WorkerAgent {
    func kickCourier() {
        guard !courierRunning, let connection = session, !outbox.isEmpty else { return }
        courierRunning = true
        Task { await deliver(on: connection) }
    }

    private func deliver(on connection: FlotillaConnection) async {
        defer {
            courierRunning = false
            outbox.inFlight = nil
        }
        while outbox.first != nil, session === connection {
            await drillHold()
            guard let entry = outbox.first, session === connection else { break }
            outbox.inFlight = entry.id
            let answer: WorkerCore.ReportAnswer
            do {
                let envelope = try await connection.request(entry.report.message, timeout: .milliseconds(requestTimeout.milliseconds))
                answer = .answered(envelope.message(as: Flotilla_V1_ReportAck.self))
            } catch {
                let failure = error as? FlotillaError ?? FlotillaError(.internal, "\(error)")
                answer = .failed(failure, connectionAlive: connection.isActive)
            }
            outbox.inFlight = nil
            let verdict = WorkerCore.verdict(on: answer, isProgress: entry.report.isProgress,
                                             refusals: outbox.refusals(of: entry.id))
            guard await carryOut(verdict, for: entry) else { return }
        }
        // The outbox is empty: a shutdown waiting for its last report can finish now.
        workChanged()
    }

    /// Carries out one verdict; false stops the courier until the next session.
    private func carryOut(_ verdict: WorkerCore.ReportVerdict, for entry: Outbox.Entry) async -> Bool {
        switch verdict {
        case .delivered:
            outbox.remove(entry.id)
            if case .drain = entry.report { logger.info("drain notice acknowledged") }
            attemptReported(entry)
        case .stopAttempt(let because):
            if let jobID = entry.jobID, let token = entry.token {
                silence(jobID: jobID, token: token, because: because)
            } else {
                outbox.remove(entry.id)
            }
        case .drop(let because):
            logger.error("report refused; dropping it", metadata: [
                "flotilla.job": "\(entry.jobID ?? "-")", "flotilla.report": "\(type(of: entry.report.message).protoMessageName)",
                "error": "\(because)",
            ])
            outbox.remove(entry.id)
            attemptReported(entry)
        case .giveUp(let because):
            logger.error("report refused repeatedly; giving it up", metadata: [
                "flotilla.job": "\(entry.jobID ?? "-")", "flotilla.message": "\(because)",
            ])
            outbox.remove(entry.id)
            attemptReported(entry)
        case .registerAgainAndResend(let because):
            // The attempt may have been declared lost: registering again (it is listed
            // in `running`) lets the coordinator reclaim it, then the report is resent.
            _ = outbox.refused(entry.id)
            interruptSession(because)
            return false
        case .reconnect(let dropIt, let closeClient, let because):
            if dropIt { outbox.remove(entry.id) }
            if closeClient { await client.close() }
            interruptSession(because)
            return false
        }
        return true
    }

    /// A result is through: the attempt is no longer this worker's.
    private func attemptReported(_ entry: Outbox.Entry) {
        guard case .result = entry.report, let jobID = entry.jobID, attempts[jobID]?.token == entry.token else { return }
        attempts[jobID] = nil
        workChanged()
    }
}
