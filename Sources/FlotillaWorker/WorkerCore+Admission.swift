import FlotillaProto

/// Which directives a worker obeys: the assignment rules, decided by the core.
extension WorkerCore {
    public enum Admission: Sendable, Equatable {
        /// Do nothing: a repeat of what runs, or a directive of an older term or attempt.
        case ignore(reason: String)
        /// Start it (after stopping the attempt it supersedes, if `superseding`).
        case start(superseding: Bool)
        /// Record it and report it ended at once, for `refusal`.
        case refuse(Refusal, superseding: Bool)
    }

    public enum Refusal: Sendable, Equatable {
        /// Not retryable here: this worker does not serve the model.
        case unknownModel
        /// Preempted: the worker takes no new work.
        case draining
        /// Retryable elsewhere: the assignment names a GPU this worker lacks.
        case missingGPU(UInt32)
    }

    /// A directive from a leader term older than the newest this worker has seen comes
    /// from a deposed leader: ignored. Records `term` as seen otherwise.
    public mutating func admitsTerm(_ term: UInt64) -> Bool {
        guard term >= newestTerm else { return false }
        newestTerm = term
        return true
    }

    /// Decides on an assignment, given what the worker runs for that job now.
    public mutating func admit(
        _ token: Flotilla_V1_FencingToken, running existing: Flotilla_V1_FencingToken?, servesModel: Bool,
        gpuIndices: [UInt32], ownGPUs: Set<UInt32>, draining: Bool
    ) -> Admission {
        guard admitsTerm(token.term) else {
            return .ignore(reason: "attempt \(token.attempt) comes from term \(token.term), older than term \(newestTerm)")
        }
        if let existing {
            if existing == token { return .ignore(reason: "a repeat of the attempt that runs") }
            // Fencing-token order (PROTOCOL.md §11.1): attempt first, then term.
            if (existing.attempt, existing.term) > (token.attempt, token.term) {
                return .ignore(reason: "attempt \(token.attempt) is older than attempt \(existing.attempt), which runs")
            }
        }
        let superseding = existing != nil
        if !servesModel { return .refuse(.unknownModel, superseding: superseding) }
        if draining { return .refuse(.draining, superseding: superseding) }
        if let missing = gpuIndices.first(where: { !ownGPUs.contains($0) }) {
            return .refuse(.missingGPU(missing), superseding: superseding)
        }
        return .start(superseding: superseding)
    }
}
