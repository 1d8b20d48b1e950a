import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport

/// Job requests (PROTOCOL.md §11.4).
extension CoordinatorService {
    static let defaultListLimit = 100
    static let maxListLimit = 10_000

    func submit(_ request: Flotilla_V1_SubmitJobRequest) async throws -> Flotilla_V1_SubmitJobResponse {
        let started = ContinuousClock.now
        let spec = request.spec
        if let problem = JobSpecValidation.problem(in: spec) { throw FlotillaError(.invalidArgument, problem) }
        let state = await core.state
        switch state.checkSubmission(spec) {
        case .reject(let rejection):
            throw FlotillaError(rejection.code, rejection.message)
        case .duplicate(let jobID):
            return try response(for: jobID, in: state, duplicate: true)
        case .accept(let accepted):
            if let problem = JobSpecValidation.capacityProblem(accepted, workers: state.workers) {
                throw FlotillaError(.invalidArgument, problem)
            }
        }
        let outcome = try await core.proposeChecked(.submitJob(spec, region: configuration.region, at: await core.now()))
        guard let jobID = outcome.jobID else { throw FlotillaError(.internal, "submission produced no job id") }
        let reply = try response(for: jobID, in: await core.state, duplicate: outcome.duplicate)
        let took = ContinuousClock.now - started
        core.metrics.submitTook(nanoseconds: UInt64(took.components.seconds) * 1_000_000_000
                                          + UInt64(took.components.attoseconds / 1_000_000_000))
        return reply
    }

    private func response(for jobID: JobID, in state: CoordinatorState, duplicate: Bool) throws -> Flotilla_V1_SubmitJobResponse {
        guard let job = state.job(jobID) else { throw FlotillaError(.internal, "job \(jobID) vanished") }
        var response = Flotilla_V1_SubmitJobResponse()
        response.job = job.proto
        response.duplicate = duplicate
        return response
    }

    func getJob(_ request: Flotilla_V1_GetJobRequest) async throws -> Flotilla_V1_GetJobResponse {
        guard let job = await core.state.job(JobID(request.jobID)) else {
            throw FlotillaError(.notFound, "no job \(request.jobID)")
        }
        var response = Flotilla_V1_GetJobResponse()
        response.job = job.proto
        return response
    }

    /// Jobs in submission order, filtered; `page_token` is the position to resume from.
    func listJobs(_ request: Flotilla_V1_ListJobsRequest) async throws -> Flotilla_V1_ListJobsResponse {
        let limit = request.limit == 0 ? Self.defaultListLimit : min(Int(request.limit), Self.maxListLimit)
        var start = 0
        if !request.pageToken.isEmpty {
            guard let position = Int(request.pageToken), position >= 0 else {
                throw FlotillaError(.invalidArgument, "page_token \"\(request.pageToken)\" is not one this coordinator issued")
            }
            start = position
        }
        let states = Set(request.states)
        let state = await core.state
        let all = state.jobs
        var response = Flotilla_V1_ListJobsResponse()
        var position = start
        while position < all.count, response.jobs.count < limit {
            let job = all[position]
            position += 1
            if !states.isEmpty, !states.contains(job.state.proto) { continue }
            if !request.tenant.isEmpty, job.tenant != request.tenant { continue }
            if !request.model.isEmpty, job.spec.model != request.model { continue }
            if !request.workerID.isEmpty,
               job.currentAttempt.map({ $0.workerID.rawValue == request.workerID || state.worker($0.workerID)?.name == request.workerID }) != true {
                continue
            }
            response.jobs.append(job.proto)
        }
        if position < all.count { response.nextPageToken = String(position) }
        return response
    }

    func cancel(_ request: Flotilla_V1_CancelJobRequest) async throws -> Flotilla_V1_CancelJobResponse {
        guard await core.state.job(JobID(request.jobID)) != nil else {
            throw FlotillaError(.notFound, "no job \(request.jobID)")
        }
        let reason = request.reason.isEmpty ? "cancelled by a user" : request.reason
        _ = try await core.proposeChecked(.cancelJob(JobID(request.jobID), reason: reason, at: await core.now()))
        var response = Flotilla_V1_CancelJobResponse()
        if let job = await core.state.job(JobID(request.jobID)) { response.job = job.proto }
        return response
    }
}
