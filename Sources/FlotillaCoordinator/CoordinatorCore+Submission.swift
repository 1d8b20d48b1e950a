import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport

/// What one submission came to: the job it made (or found, for a known
/// idempotency key), or why it was refused.
struct Submitted: Sendable {
    var jobID: JobID
    var state: Flotilla_V1_JobState
    var duplicate: Bool
}

extension CoordinatorCore {
    /// Checks `specs` (validated and tenant-scoped by the service) and proposes
    /// the accepted ones in one append, so a batch costs one sync however many
    /// jobs it holds. Results are in `specs` order. Applying re-checks each
    /// submission in log order, so a key repeated inside the batch makes one job
    /// (the later ones are duplicates) and a quota fills exactly as if the specs
    /// had come one by one. Throws only when the log cannot be written, when the
    /// outcome of every spec is unknown and resending with the same keys is safe.
    func submit(_ specs: [Flotilla_V1_JobSpec], region: String) async throws -> [Result<Submitted, FlotillaError>] {
        let at = now()
        var results = [Result<Submitted, FlotillaError>](
            repeating: .failure(FlotillaError(.internal, "submission produced no job id")), count: specs.count)
        var commands: [Flotilla_V1_Command] = []
        var positions: [Int] = []
        for (position, spec) in specs.enumerated() {
            switch preflight(spec) {
            case .failure(let error):
                results[position] = .failure(error)
            case .success(.reject(let rejection)):
                results[position] = .failure(rejection.flotillaError)
            case .success(.duplicate(let id)):
                results[position] = submitted(id, duplicate: true)
            case .success(.accept):
                commands.append(.submitJob(spec, region: region, at: at))
                positions.append(position)
            }
        }
        let outcomes = try await propose(commands)
        for (position, outcome) in zip(positions, outcomes) {
            if let rejection = outcome.rejection, !outcome.duplicate {
                results[position] = .failure(rejection.flotillaError)
            } else if let id = outcome.jobID {
                results[position] = submitted(id, duplicate: outcome.duplicate)
            }
        }
        return results
    }

    /// One submission, answered with the whole job (`SubmitJobResponse`).
    func submitOne(_ spec: Flotilla_V1_JobSpec, region: String) async throws -> Flotilla_V1_SubmitJobResponse {
        let submitted = try await submit([spec], region: region)[0].get()
        guard let job = state.job(submitted.jobID) else { throw FlotillaError(.internal, "job \(submitted.jobID) vanished") }
        var response = Flotilla_V1_SubmitJobResponse()
        response.job = job.proto
        response.duplicate = submitted.duplicate
        return response
    }

    private func submitted(_ id: JobID, duplicate: Bool) -> Result<Submitted, FlotillaError> {
        // A job removed by retention between apply and here is still the answer.
        .success(Submitted(jobID: id, state: state.job(id)?.state.proto ?? .unspecified, duplicate: duplicate))
    }
}
