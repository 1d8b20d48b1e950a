import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport
import FlotillaWire

/// Job requests (PROTOCOL.md §11.4).
extension CoordinatorService {
    static let defaultListLimit = 100
    static let maxListLimit = 1_000

    /// At most this many specs in one `SubmitJobsRequest` (PROTOCOL.md §7.3); the
    /// transport counts them before decoding (`MessageKind.repeatedLimit`).
    static let maxBatchSpecs = MessageKind.submitJobsRequest.repeatedLimit?.max ?? 1_000

    func submit(_ request: Flotilla_V1_SubmitJobRequest, peer: PeerInfo) async throws -> Flotilla_V1_SubmitJobResponse {
        let started = ContinuousClock.now
        var spec = request.spec
        if let problem = JobSpecValidation.problem(in: spec) { throw FlotillaError(.invalidArgument, problem) }
        spec.tenant = try TenantScope(peer).tenant(naming: spec.tenant, to: "submit jobs for")
        let reply = try await core.submitOne(spec, region: configuration.region)
        core.metrics.submitTook(since: started, batch: false)
        return reply
    }

    /// Many submissions in one request: one log append, one sync. A spec that
    /// fails validation, names a tenant the peer may not use or is refused by the
    /// state gets its own error; the others go ahead.
    func submitBatch(_ request: Flotilla_V1_SubmitJobsRequest, peer: PeerInfo) async throws -> Flotilla_V1_SubmitJobsResponse {
        let started = ContinuousClock.now
        guard !request.specs.isEmpty else { throw FlotillaError(.invalidArgument, "SubmitJobsRequest.specs is empty") }
        guard request.specs.count <= Self.maxBatchSpecs else {
            throw FlotillaError(.invalidArgument, "SubmitJobsRequest holds \(request.specs.count) specs; at most \(Self.maxBatchSpecs)")
        }
        let scope = TenantScope(peer)
        var results = [Flotilla_V1_SubmitJobResult](repeating: Flotilla_V1_SubmitJobResult(), count: request.specs.count)
        var specs: [Flotilla_V1_JobSpec] = []
        var positions: [Int] = []
        for (position, submitted) in request.specs.enumerated() {
            var spec = submitted
            if let problem = JobSpecValidation.problem(in: spec) {
                results[position].error = FlotillaError(.invalidArgument, "specs[\(position)]: \(problem)").proto
                continue
            }
            do {
                spec.tenant = try scope.tenant(naming: spec.tenant, to: "submit jobs for")
            } catch let error as FlotillaError {
                results[position].error = error.proto
                continue
            }
            specs.append(spec)
            positions.append(position)
        }
        let outcomes = try await core.submit(specs, region: configuration.region)
        for (position, outcome) in zip(positions, outcomes) {
            switch outcome {
            case .success(let submitted):
                results[position].jobID = submitted.jobID.rawValue
                results[position].state = submitted.state
                results[position].duplicate = submitted.duplicate
            case .failure(let error):
                results[position].error = error.proto
            }
        }
        core.metrics.submitTook(since: started, batch: true)
        var response = Flotilla_V1_SubmitJobsResponse()
        response.results = results
        return response
    }

    func getJob(_ request: Flotilla_V1_GetJobRequest, peer: PeerInfo) async throws -> Flotilla_V1_GetJobResponse {
        let scope = TenantScope(peer)
        let (job, removal) = await core.read { ($0.job(JobID(request.jobID)), $0.removal(of: JobID(request.jobID))) }
        guard let job, scope.admits(job) else {
            if let removal, scope.admits(tenant: removal.tenant) { throw TenantScope.removedJob(removal) }
            throw TenantScope.unknownJob(request.jobID)
        }
        var response = Flotilla_V1_GetJobResponse()
        response.job = job.proto
        return response
    }

    /// Jobs matching the filters, newest submission first. `page_token` is
    /// the sequence of the last job of the previous page: later submissions
    /// cannot shift what the next page holds. A tenant-bound client lists only
    /// its tenant's jobs, as if it had asked for that tenant.
    func listJobs(_ request: Flotilla_V1_ListJobsRequest, peer: PeerInfo) async throws -> Flotilla_V1_ListJobsResponse {
        let tenant = try TenantScope(peer).tenant(naming: request.tenant, to: "list jobs of")
        let limit = request.limit == 0 ? Self.defaultListLimit : min(Int(request.limit), Self.maxListLimit)
        var before = UInt64.max
        if !request.pageToken.isEmpty {
            guard let sequence = UInt64(request.pageToken) else {
                throw FlotillaError(.invalidArgument, "page_token \"\(request.pageToken)\" is not one this coordinator issued")
            }
            before = sequence
        }
        var query = JobListQuery(tenant: tenant, model: request.model, worker: request.workerID, before: before, limit: limit)
        query.states = Set(request.states.compactMap(JobState.init))
        // Only states no job can be in (UNSPECIFIED, unknown): nothing matches.
        if !request.states.isEmpty, query.states.isEmpty { return Flotilla_V1_ListJobsResponse() }
        return await core.read { [query] state in
            let page = state.listJobs(query)
            var response = Flotilla_V1_ListJobsResponse()
            response.jobs = page.jobs.map(\.proto)
            if let next = page.nextBefore { response.nextPageToken = String(next) }
            return response
        }
    }

    func cancel(_ request: Flotilla_V1_CancelJobRequest, peer: PeerInfo) async throws -> Flotilla_V1_CancelJobResponse {
        let scope = TenantScope(peer)
        // A job's tenant never changes, so checking before proposing cannot go stale.
        guard let job = await core.read({ $0.job(JobID(request.jobID)) }), scope.admits(job) else {
            throw TenantScope.unknownJob(request.jobID)
        }
        let reason = request.reason.isEmpty ? "cancelled by a user" : request.reason
        _ = try await core.proposeChecked(.cancelJob(JobID(request.jobID), reason: reason, at: await core.now()))
        var response = Flotilla_V1_CancelJobResponse()
        if let job = await core.read({ $0.job(JobID(request.jobID)) }) { response.job = job.proto }
        return response
    }
}

extension Rejection {
    /// The error a requester is told, with when to try again if known.
    var flotillaError: FlotillaError {
        FlotillaError(code, message, retryAfterMilliseconds: retryAfterMs > 0 ? retryAfterMs : nil)
    }
}
