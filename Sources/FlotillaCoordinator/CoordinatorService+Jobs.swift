import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport

/// Job requests (PROTOCOL.md §11.4).
extension CoordinatorService {
    static let defaultListLimit = 100
    static let maxListLimit = 1_000

    func submit(_ request: Flotilla_V1_SubmitJobRequest, peer: PeerInfo) async throws -> Flotilla_V1_SubmitJobResponse {
        let started = ContinuousClock.now
        var spec = request.spec
        if let problem = JobSpecValidation.problem(in: spec) { throw FlotillaError(.invalidArgument, problem) }
        spec.tenant = try TenantScope(peer).tenant(naming: spec.tenant, to: "submit jobs for")
        switch try await core.preflight(spec).get() {
        case .reject(let rejection):
            throw rejection.flotillaError
        case .duplicate(let jobID):
            return try await response(for: jobID, duplicate: true)
        case .accept:
            break
        }
        let outcome = try await core.proposeChecked(.submitJob(spec, region: configuration.region, at: await core.now()))
        guard let jobID = outcome.jobID else { throw FlotillaError(.internal, "submission produced no job id") }
        let reply = try await response(for: jobID, duplicate: outcome.duplicate)
        let took = ContinuousClock.now - started
        core.metrics.submitTook(nanoseconds: UInt64(took.components.seconds) * 1_000_000_000
                                          + UInt64(took.components.attoseconds / 1_000_000_000))
        return reply
    }

    private func response(for jobID: JobID, duplicate: Bool) async throws -> Flotilla_V1_SubmitJobResponse {
        guard let job = await core.read({ $0.job(jobID)?.proto }) else { throw FlotillaError(.internal, "job \(jobID) vanished") }
        var response = Flotilla_V1_SubmitJobResponse()
        response.job = job
        response.duplicate = duplicate
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
