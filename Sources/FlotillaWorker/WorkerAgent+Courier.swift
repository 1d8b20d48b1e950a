import FlotillaProto
import FlotillaTransport
import FlotillaWire
import Logging

/// Delivers the outbox in order over the session's connection, one report at
/// a time, and acts on each ReportAck.
extension WorkerAgent {
    /// Answers "not now" (accepted and stop_attempt both false) a report may get
    /// before it is given up: the coordinator's state is behind or the attempt
    /// was declared lost and re-registration did not reclaim it.
    static let maximumRefusals = 5

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
        while let entry = outbox.first, session === connection {
            outbox.inFlight = entry.id
            let answer: Envelope
            do {
                answer = try await connection.request(entry.report.message, timeout: .milliseconds(requestTimeout.milliseconds))
            } catch let error as FlotillaError where Self.isTransient(error) || !connection.isActive {
                if entry.report.isProgress { outbox.remove(entry.id) }
                if error.code == .notLeader { await client.close() }
                interruptSession("a report could not be delivered: \(error)")
                return
            } catch {
                // The coordinator refused the report itself (INVALID_ARGUMENT, PERMISSION_DENIED):
                // sending it again cannot help.
                logger.error("report refused; dropping it", metadata: [
                    "flotilla.job": "\(entry.jobID ?? "-")", "flotilla.report": "\(type(of: entry.report.message).protoMessageName)",
                    "error": "\(error)",
                ])
                outbox.remove(entry.id)
                attemptReported(entry)
                continue
            }
            outbox.inFlight = nil
            if let ack = answer.message(as: Flotilla_V1_ReportAck.self) {
                guard acknowledged(entry, ack) else { return }
            } else {
                outbox.remove(entry.id)
                if case .drain = entry.report { logger.info("drain notice acknowledged") }
            }
        }
        // The outbox is empty: a shutdown waiting for its last report can finish now.
        workChanged()
    }

    /// Acts on one ReportAck; false stops the courier until the next session.
    private func acknowledged(_ entry: Outbox.Entry, _ ack: Flotilla_V1_ReportAck) -> Bool {
        if ack.stopAttempt, let jobID = entry.jobID, let token = entry.token {
            silence(jobID: jobID, token: token, because: "the coordinator refused its report: \(ack.message)")
            return true
        }
        if ack.accepted || entry.report.isProgress {
            outbox.remove(entry.id)
            attemptReported(entry)
            return true
        }
        let refusals = outbox.refused(entry.id)
        guard refusals < Self.maximumRefusals else {
            logger.error("report refused repeatedly; giving it up", metadata: [
                "flotilla.job": "\(entry.jobID ?? "-")", "flotilla.message": "\(ack.message)",
            ])
            outbox.remove(entry.id)
            attemptReported(entry)
            return true
        }
        // The attempt may have been declared lost: registering again (it is listed
        // in `running`) lets the coordinator reclaim it, then the report is resent.
        interruptSession("report not accepted (\(ack.message)); registering again")
        return false
    }

    /// A result is through: the attempt is no longer this worker's.
    private func attemptReported(_ entry: Outbox.Entry) {
        guard case .result = entry.report, let jobID = entry.jobID, attempts[jobID]?.token == entry.token else { return }
        attempts[jobID] = nil
        workChanged()
    }

    /// Errors after which the same report may succeed on another connection.
    static func isTransient(_ error: FlotillaError) -> Bool {
        switch error.code {
        case .unavailable, .deadlineExceeded, .notLeader, .cancelled, .resourceExhausted: return true
        default: return false
        }
    }
}
