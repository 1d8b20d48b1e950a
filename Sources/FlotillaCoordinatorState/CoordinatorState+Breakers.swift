import FlotillaProto

/// Per-model circuit breakers in the replicated state: results of attempts
/// feed them as they are applied, so a new leader inherits every breaker.
extension CoordinatorState {
    /// The model's breaker (a fresh CLOSED one if nothing is recorded).
    public func breaker(_ model: String) -> CircuitBreaker {
        breakersByModel[model] ?? CircuitBreaker(model: model)
    }

    /// A breaker for every model a worker serves or that has a record, by name.
    public var breakers: [CircuitBreaker] {
        knownModels.union(breakersByModel.keys).sorted().map(breaker)
    }

    /// The models a job with `spec` may run at `at`, in preference order: its
    /// own if its breaker admits work, then (when it allows fallback) the
    /// models of its fallback chain whose breakers admit work.
    public func admittedModels(for spec: Flotilla_V1_JobSpec, at: UInt64) -> [String] {
        let chain = [spec.model] + (spec.fallbackAllowed ? breakerPolicy.fallbackChain(for: spec.model) : [])
        return chain.filter { model in
            if case .refused = breaker(model).admission(at: at, policy: breakerPolicy) { return false }
            return true
        }
    }

    /// Why a submission of `spec` is refused at `at` because of breakers, or nil.
    func breakerRefusal(_ spec: Flotilla_V1_JobSpec, at: UInt64) -> Rejection? {
        guard case .refused(let retryAfter) = breaker(spec.model).admission(at: at, policy: breakerPolicy) else { return nil }
        if spec.fallbackAllowed, admittedModels(for: spec, at: at).contains(where: knownModels.contains) { return nil }
        let phase = breaker(spec.model).phase(at: at, policy: breakerPolicy) == .open ? "open" : "half-open, probes in flight"
        let fallback = spec.fallbackAllowed ? " and no model of its fallback chain is available" : ""
        return Rejection(.breakerOpen, "model \(spec.model)'s circuit breaker is \(phase)\(fallback)",
                         retryAfterMs: retryAfter)
    }

    /// Changes one breaker, keeping a record only while it differs from a fresh one.
    mutating func updateBreaker(_ model: String, _ change: (inout CircuitBreaker) -> Void) {
        var breaker = breaker(model)
        change(&breaker)
        breakersByModel[model] = breaker == CircuitBreaker(model: model) ? nil : breaker
    }

    /// An attempt ended: a success or a failure of the model's own is its
    /// breaker's verdict; anything else (lost worker, cancel, preemption, an
    /// unusable checkpoint) frees the probe slot it may hold.
    mutating func judge(_ attempt: Attempt, endedAs state: AttemptState, modelFault: Bool, at: UInt64) {
        let policy = breakerPolicy
        switch state {
        case .succeeded:
            updateBreaker(attempt.model) { $0.recordSuccess(at: at, probe: attempt.probe, policy: policy) }
        case .failed where modelFault:
            updateBreaker(attempt.model) { $0.recordFailure(at: at, policy: policy) }
        default:
            if attempt.probe { updateBreaker(attempt.model) { $0.releaseProbe() } }
        }
    }

    mutating func actOnBreaker(_ command: Flotilla_V1_Command.ActOnBreaker, at: UInt64, _ outcome: inout CommandOutcome) {
        guard knownModels.contains(command.model) || breakersByModel[command.model] != nil else {
            return outcome.reject(.notFound, "no model \(command.model) is served by any registered worker")
        }
        switch command.action {
        case .reset: updateBreaker(command.model) { $0.reset() }
        case .trip: updateBreaker(command.model) { $0.trip(at: at) }
        case .unspecified, .UNRECOGNIZED:
            outcome.reject(.invalidArgument, "a breaker action is RESET or TRIP")
        }
    }
}
