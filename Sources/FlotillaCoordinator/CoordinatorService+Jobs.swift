import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport

/// Job requests (PROTOCOL.md §11.4).
extension CoordinatorService {
    static let defaultListLimit = 100
    static let maxListLimit = 1_000

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

    /// Jobs matching the filters, newest submission first. `page_token` is
    /// the sequence of the last job of the previous page: later submissions
    /// cannot shift what the next page holds.
    func listJobs(_ request: Flotilla_V1_ListJobsRequest) async throws -> Flotilla_V1_ListJobsResponse {
        let limit = request.limit == 0 ? Self.defaultListLimit : min(Int(request.limit), Self.maxListLimit)
        var before = UInt64.max
        if !request.pageToken.isEmpty {
            guard let sequence = UInt64(request.pageToken) else {
                throw FlotillaError(.invalidArgument, "page_token \"\(request.pageToken)\" is not one this coordinator issued")
            }
            before = sequence
        }
        let states = Set(request.states)
        let state = await core.state
        var response = Flotilla_V1_ListJobsResponse()
        for job in state.jobs.reversed() where job.sequence < before {
            if response.jobs.count == limit {
                response.nextPageToken = String(lastSequence(response, state))
                break
            }
            if !states.isEmpty, !states.contains(job.state.proto) { continue }
            if !request.tenant.isEmpty, job.tenant != request.tenant { continue }
            if !request.model.isEmpty, job.spec.model != request.model { continue }
            if !request.workerID.isEmpty, !job.attempts.contains(where: {
                $0.workerID.rawValue == request.workerID || state.worker($0.workerID)?.name == request.workerID
            }) { continue }
            response.jobs.append(job.proto)
        }
        return response
    }

    private func lastSequence(_ response: Flotilla_V1_ListJobsResponse, _ state: CoordinatorState) -> UInt64 {
        response.jobs.last.flatMap { state.job(JobID($0.id))?.sequence } ?? 0
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
