import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport
import FlotillaWire
import SwiftProtobuf

/// Worker requests (PROTOCOL.md §11.3). A worker speaks only for the worker
/// its certificate names.
extension CoordinatorService {
    func registerWorker(_ request: Flotilla_V1_RegisterWorkerRequest, peer: PeerInfo) async throws -> Flotilla_V1_RegisterWorkerResponse {
        guard request.name == peer.identity.name else {
            throw FlotillaError(.permissionDenied,
                                "worker name \"\(request.name)\" differs from the certificate's name \"\(peer.identity.name)\"")
        }
        if let problem = FieldLimits.registrationProblem(request) { throw FlotillaError(.invalidArgument, problem) }
        if !request.region.isEmpty, request.region != configuration.region {
            throw FlotillaError(.failedPrecondition,
                                "worker of region \(request.region) registered with a coordinator of region \"\(configuration.region)\"")
        }
        try await refuseSecondLiveRegistration(of: request.name, peer: peer)
        let now = await core.now()
        let outcome = try await core.proposeChecked(.registerWorker(request, address: peer.remoteAddress, at: now))
        guard let workerID = outcome.workerID else { throw FlotillaError(.internal, "registration produced no worker id") }
        await core.registered(workerID, on: peer.connectionID)
        logger.info("worker registered", metadata: [
            "flotilla.worker": "\(request.name)", "flotilla.worker_id": "\(workerID)",
            "flotilla.gpus": "\(request.gpus.count)", "flotilla.models": "\(request.models.joined(separator: ","))",
            "flotilla.reported_running": "\(request.running.count)",
        ])
        await core.sawStale(outcome.stopAttempts, listed: request.running)
        var response = Flotilla_V1_RegisterWorkerResponse()
        response.workerID = workerID.rawValue
        response.heartbeatIntervalMs = configuration.health.heartbeatIntervalMs
        response.heartbeatTimeoutMs = configuration.health.heartbeatTimeoutMs
        response.stop = outcome.stopAttempts
        return response
    }

    /// Two live processes under one name would fight over the same attempts:
    /// a registration is refused while another open connection registered
    /// the name and the worker has heartbeated recently. A silent
    /// holder (a half-open connection after a network cut) gives way.
    private func refuseSecondLiveRegistration(of name: String, peer: PeerInfo) async throws {
        guard let existing = await core.read({ $0.worker(named: name) }),
              let holder = await core.registeredConnection(of: existing.id), holder != peer.connectionID else { return }
        let silentFor = await core.now().saturatingSubtract(await core.lastHeard(existing))
        guard silentFor >= configuration.health.suspectAfterMs else {
            throw FlotillaError(.alreadyExists,
                                "worker \(name) is already connected (\(existing.address), last heartbeat \(silentFor) ms ago); two workers may not share a name")
        }
    }

    func heartbeat(_ request: Flotilla_V1_HeartbeatRequest, peer: PeerInfo) async throws -> Flotilla_V1_HeartbeatResponse {
        if let problem = FieldLimits.heartbeatProblem(request) { throw FlotillaError(.invalidArgument, problem) }
        return try await core.heartbeat(request, from: peer.identity.name)
    }

    func subscribe(_ request: Flotilla_V1_SubscribeDirectivesRequest, peer: PeerInfo) async throws -> AsyncThrowingStream<any SwiftProtobuf.Message, any Error> {
        let worker = try await ownWorker(request.workerID, peer: peer)
        return await core.subscribeDirectives(worker.id, connectionID: peer.connectionID,
                                             acceptsBatches: request.acceptsBatches)
    }

    func progress(_ report: Flotilla_V1_ProgressReport, peer: PeerInfo) async throws -> Flotilla_V1_ReportAck {
        try await reportBatch([.progress(report)], peer: peer)[0].get()
    }

    func checkpoint(_ report: Flotilla_V1_CheckpointReport, peer: PeerInfo) async throws -> Flotilla_V1_ReportAck {
        try await reportBatch([.checkpoint(report)], peer: peer)[0].get()
    }

    func result(_ result: Flotilla_V1_AttemptResult, peer: PeerInfo) async throws -> Flotilla_V1_ReportAck {
        try await reportBatch([.result(result)], peer: peer)[0].get()
    }

    /// At most this many reports in one `ReportBatch` (PROTOCOL.md §7.3); the
    /// transport counts them before decoding (`MessageKind.repeatedLimit`).
    static let maxBatchReports = MessageKind.reportBatch.repeatedLimit?.max ?? 64

    func reportBatch(_ batch: Flotilla_V1_ReportBatch, peer: PeerInfo) async throws -> Flotilla_V1_ReportBatchAck {
        guard !batch.reports.isEmpty else { throw FlotillaError(.invalidArgument, "ReportBatch.reports is empty") }
        guard batch.reports.count <= Self.maxBatchReports else {
            throw FlotillaError(.invalidArgument, "ReportBatch holds \(batch.reports.count) reports; at most \(Self.maxBatchReports)")
        }
        var reports: [Flotilla_V1_WorkerReport.OneOf_Report] = []
        for (position, report) in batch.reports.enumerated() {
            guard let one = report.report else {
                throw FlotillaError(.invalidArgument, "ReportBatch.reports[\(position)] holds no report")
            }
            reports.append(one)
        }
        var response = Flotilla_V1_ReportBatchAck()
        response.acks = try await reportBatch(reports, peer: peer).map { answer in
            switch answer {
            case .success(let ack): return ack
            case .failure(let error):
                var ack = Flotilla_V1_ReportAck()
                ack.error = error.proto
                return ack
            }
        }
        return response
    }

    /// Checks every report (its sender, its fields) in one read of the state, and
    /// proposes the valid ones in one append: one sync however many there are. Each
    /// is fenced by its own token when applied. The answers are in `reports` order.
    private func reportBatch(_ reports: [Flotilla_V1_WorkerReport.OneOf_Report],
                             peer: PeerInfo) async throws -> [Result<Flotilla_V1_ReportAck, FlotillaError>] {
        let worker = peer.identity.name
        let checks = await core.read { state in reports.map { ReportCheck.problem(with: $0, from: worker, in: state) } }
        let at = await core.now()
        var answers = [Result<Flotilla_V1_ReportAck, FlotillaError>](
            repeating: .failure(FlotillaError(.internal, "report not answered")), count: reports.count)
        var commands: [Flotilla_V1_Command] = []
        var positions: [Int] = []
        for (position, (report, problem)) in zip(reports, checks).enumerated() {
            if let problem {
                answers[position] = .failure(problem)
                continue
            }
            commands.append(ReportCheck.command(for: report, at: at))
            positions.append(position)
        }
        let outcomes = try await core.propose(commands)
        for (position, outcome) in zip(positions, outcomes) {
            answers[position] = .success(outcome.reportAck)
            if case .result(let result) = reports[position], outcome.isAccepted, !outcome.duplicate {
                logger.info("attempt finished", metadata: [
                    "flotilla.job": "\(result.jobID)", "flotilla.attempt": "\(result.token.attempt)",
                    "flotilla.state": "\(result.state)", "flotilla.step": "\(result.step)",
                ])
            }
        }
        return answers
    }

    func drainNotice(_ notice: Flotilla_V1_DrainNotice, peer: PeerInfo) async throws -> Flotilla_V1_Ack {
        let worker = try await ownWorker(notice.workerID, peer: peer)
        _ = try await core.proposeChecked(.drain(worker.id, reason: notice.reason.isEmpty ? "worker shutting down" : notice.reason,
                                                 fromWorker: true, at: await core.now()))
        logger.info("worker draining", metadata: ["flotilla.worker": "\(worker.name)", "flotilla.reason": "\(notice.reason)"])
        return Flotilla_V1_Ack()
    }

    /// The worker `id` names, if it is the one the peer's certificate names.
    private func ownWorker(_ id: String, peer: PeerInfo) async throws -> Worker {
        try Self.own(await core.read({ $0.worker(WorkerID(id)) }), id: id, by: peer.identity.name)
    }

    /// `worker` (the one `id` names), if it exists and is `name`'s.
    static func own(_ worker: Worker?, id: String, by name: String) throws -> Worker {
        guard let worker else { throw FlotillaError(.notFound, "no worker \(id); register again") }
        guard worker.name == name else {
            throw FlotillaError(.permissionDenied, "worker \(id) is \(worker.name), not \(name)")
        }
        return worker
    }
}
