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
            outbox.inFlight.removeAll()
        }
        while outbox.first != nil, session === connection {
            await drillHold()
            let entries = outbox.nextBatch
            guard !entries.isEmpty, session === connection else { break }
            outbox.inFlight = Set(entries.map(\.id))
            let answers = await send(entries, on: connection)
            outbox.inFlight.removeAll()
            // In order: a verdict that ends the session leaves the rest queued, to be
            // sent again (a report the coordinator already has is a duplicate, accepted).
            for (entry, answer) in zip(entries, answers) {
                let verdict = WorkerCore.verdict(on: answer, isProgress: entry.report.isProgress,
                                                 refusals: outbox.refusals(of: entry.id))
                guard await carryOut(verdict, for: entry) else { return }
            }
        }
        // The outbox is empty: a shutdown waiting for its last report can finish now.
        workChanged()
    }

    /// One answer per entry: a lone report as its own request, several in one
    /// `ReportBatch` (one log sync at the coordinator for all of them).
    private func send(_ entries: [Outbox.Entry], on connection: FlotillaConnection) async -> [WorkerCore.ReportAnswer] {
        do {
            if entries.count == 1 {
                let envelope = try await connection.request(entries[0].report.message, timeout: .milliseconds(requestTimeout.milliseconds))
                return [.answered(envelope.message(as: Flotilla_V1_ReportAck.self))]
            }
            var batch = Flotilla_V1_ReportBatch()
            batch.reports = entries.compactMap(\.report.batched)
            let envelope = try await connection.request(batch, timeout: .milliseconds(requestTimeout.milliseconds))
            guard let answer = envelope.message(as: Flotilla_V1_ReportBatchAck.self), answer.acks.count == entries.count else {
                throw FlotillaError(.unavailable, "a ReportBatch of \(entries.count) was not answered one ack per report")
            }
            return answer.acks.map { ack -> WorkerCore.ReportAnswer in
                ack.hasError ? .failed(FlotillaError(ack.error), connectionAlive: true) : .answered(ack)
            }
        } catch {
            let failure = error as? FlotillaError ?? FlotillaError(.internal, "\(error)")
            return Array(repeating: .failed(failure, connectionAlive: connection.isActive), count: entries.count)
        }
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
