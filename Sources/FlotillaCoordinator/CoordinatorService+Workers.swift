import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport
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
        let worker = try await ownWorker(request.workerID, peer: peer)
        var response = Flotilla_V1_HeartbeatResponse()
        response.stop = try await core.heartbeat(request)
        await core.sawStale(response.stop, listed: request.running)
        response.drain = (await core.read({ $0.worker(worker.id)?.drain })?.byOperator) ?? false
        return response
    }

    func subscribe(_ request: Flotilla_V1_SubscribeDirectivesRequest, peer: PeerInfo) async throws -> AsyncThrowingStream<any SwiftProtobuf.Message, any Error> {
        let worker = try await ownWorker(request.workerID, peer: peer)
        return await core.subscribeDirectives(worker.id, connectionID: peer.connectionID)
    }

    func progress(_ report: Flotilla_V1_ProgressReport, peer: PeerInfo) async throws -> Flotilla_V1_ReportAck {
        let total = try await checkReporter(jobID: report.jobID, token: report.token, peer: peer)
        if let problem = FieldLimits.progressProblem(report, jobTotal: total) { throw FlotillaError(.invalidArgument, problem) }
        return try await core.propose([.progress(report, at: await core.now())])[0].reportAck
    }

    func checkpoint(_ report: Flotilla_V1_CheckpointReport, peer: PeerInfo) async throws -> Flotilla_V1_ReportAck {
        let total = try await checkReporter(jobID: report.checkpoint.jobID, token: report.token, peer: peer)
        if let problem = FieldLimits.checkpointProblem(report, jobTotal: total) { throw FlotillaError(.invalidArgument, problem) }
        return try await core.propose([.checkpoint(report, at: await core.now())])[0].reportAck
    }

    func result(_ result: Flotilla_V1_AttemptResult, peer: PeerInfo) async throws -> Flotilla_V1_ReportAck {
        let total = try await checkReporter(jobID: result.jobID, token: result.token, peer: peer)
        if let problem = FieldLimits.resultProblem(result, jobTotal: total) { throw FlotillaError(.invalidArgument, problem) }
        let command = Flotilla_V1_Command.finish(result, checkpointUnusable: result.checkpointUnusable, at: await core.now())
        let outcome = try await core.propose([command])[0]
        if outcome.isAccepted, !outcome.duplicate {
            logger.info("attempt finished", metadata: [
                "flotilla.job": "\(result.jobID)", "flotilla.attempt": "\(result.token.attempt)",
                "flotilla.state": "\(result.state)", "flotilla.step": "\(result.step)",
            ])
        }
        return outcome.reportAck
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
        guard let worker = await core.read({ $0.worker(WorkerID(id)) }) else {
            throw FlotillaError(.notFound, "no worker \(id); register again")
        }
        guard worker.name == peer.identity.name else {
            throw FlotillaError(.permissionDenied, "worker \(id) is \(worker.name), not \(peer.identity.name)")
        }
        return worker
    }

    /// A report about an attempt must come from the worker that attempt was
    /// given to; fencing (in the state machine) handles stale tokens. Returns the
    /// job's known total of steps (0: unknown), which no report may pass.
    @discardableResult
    private func checkReporter(jobID: String, token: Flotilla_V1_FencingToken, peer: PeerInfo) async throws -> UInt64 {
        guard jobID.utf8.count <= FieldLimits.maxJobIDBytes else {
            throw FlotillaError(.invalidArgument, "job id is longer than \(FieldLimits.maxJobIDBytes) bytes")
        }
        guard let job = await core.read({ $0.job(JobID(jobID)) }) else { return 0 }
        guard let attempt = job.attempts.first(where: { $0.token == FencingToken(token) }),
              let worker = await core.read({ $0.worker(attempt.workerID) }) else { return job.totalSteps }
        guard worker.name == peer.identity.name else {
            throw FlotillaError(.permissionDenied,
                                "attempt \(token.attempt) of job \(jobID) belongs to worker \(worker.name), not \(peer.identity.name)")
        }
        return job.totalSteps
    }
}
