import FlotillaProto

/// One model's circuit breaker: a pure value. No I/O, no clock; every time
/// is a unix-ms argument taken from the command being applied.
///
/// The stored state is the one last applied. OPEN -> HALF_OPEN needs no
/// command: an OPEN breaker whose recovery time has passed reads HALF_OPEN,
/// and the first mutation that needs it (a probe, a failure) stores it.
///
/// A failure counts within the window while `now - failure < windowMs`.
public struct CircuitBreaker: Hashable, Sendable {
    /// The retry hint for a HALF_OPEN breaker whose probe slots are all taken.
    public static let probesBusyRetryAfterMs: UInt64 = 1_000

    public let model: String
    private var state: BreakerPhase = .closed
    /// Oldest first.
    private var failures: [UInt64] = []
    private var openedAt: UInt64 = 0
    public private(set) var probesAdmitted: Int = 0
    public private(set) var probesSucceeded: Int = 0

    public init(model: String) { self.model = model }

    public init(_ record: Flotilla_V1_BreakerRecord) {
        model = record.model
        state = BreakerPhase(record.state)
        failures = record.failuresUnixMs
        openedAt = record.openedUnixMs
        probesAdmitted = Int(record.probesAdmitted)
        probesSucceeded = Int(record.probesSucceeded)
    }

    public var record: Flotilla_V1_BreakerRecord {
        var record = Flotilla_V1_BreakerRecord()
        record.model = model
        record.state = state.proto
        record.failuresUnixMs = failures
        record.openedUnixMs = openedAt
        record.probesAdmitted = UInt32(clamping: probesAdmitted)
        record.probesSucceeded = UInt32(clamping: probesSucceeded)
        return record
    }

    public func phase(at now: UInt64, policy: BreakerPolicy) -> BreakerPhase {
        if state == .open, now >= openedAt.saturatingAdd(policy.recoveryMs) { return .halfOpen }
        return state
    }

    public func admission(at now: UInt64, policy: BreakerPolicy) -> BreakerAdmission {
        switch phase(at: now, policy: policy) {
        case .closed: .allowed
        case .open: .refused(retryAfterMs: msUntilNextTransition(at: now, policy: policy))
        case .halfOpen:
            probesAdmitted < policy.effectiveHalfOpenProbes ? .probe : .refused(retryAfterMs: Self.probesBusyRetryAfterMs)
        }
    }

    /// Counts a probe if the breaker is HALF_OPEN at `now` (turning a due OPEN
    /// into HALF_OPEN first) and a slot is free; false otherwise. CLOSED:
    /// returns true and counts nothing.
    public mutating func admitProbe(at now: UInt64, policy: BreakerPolicy) -> Bool {
        switch phase(at: now, policy: policy) {
        case .closed: return true
        case .open: return false
        case .halfOpen:
            settleHalfOpen()
            guard probesAdmitted < policy.effectiveHalfOpenProbes else { return false }
            probesAdmitted += 1
            return true
        }
    }

    public mutating func recordFailure(at now: UInt64, policy: BreakerPolicy) {
        let phase = phase(at: now, policy: policy)
        addFailure(at: now, policy: policy)
        switch phase {
        case .closed:
            if failures.count >= policy.effectiveFailureThreshold { open(at: now) }
        case .halfOpen:
            open(at: now)
        case .open:
            break // recorded; the open period is not extended
        }
    }

    /// A success; `probe`: the attempt was admitted as a probe. A probe
    /// success counts only in HALF_OPEN and only while some admitted probe
    /// has no verdict yet (so `probesSucceeded <= probesAdmitted`).
    public mutating func recordSuccess(at now: UInt64, probe: Bool, policy: BreakerPolicy) {
        // A due OPEN has admitted no probe yet (opening clears them): only a
        // stored HALF_OPEN has probes to count.
        guard probe, state == .halfOpen, probesSucceeded < probesAdmitted else { return }
        probesSucceeded += 1
        if probesSucceeded >= policy.effectiveHalfOpenProbes { reset() }
    }

    /// A probe that ended without a verdict (its worker was lost, it was
    /// cancelled or preempted): its slot is free again. No probe in flight: nothing.
    public mutating func releaseProbe() {
        if probesAdmitted > probesSucceeded { probesAdmitted -= 1 }
    }

    /// Operator reset: CLOSED, history cleared.
    public mutating func reset() {
        state = .closed
        failures = []
        openedAt = 0
        clearProbes()
    }

    /// Operator trip: OPEN, opened at `now`, probes cleared; failures kept.
    public mutating func trip(at now: UInt64) { open(at: now) }

    /// ms until OPEN -> HALF_OPEN (at least 1 while OPEN), 0 if none.
    public func msUntilNextTransition(at now: UInt64, policy: BreakerPolicy) -> UInt64 {
        guard phase(at: now, policy: policy) == .open else { return 0 }
        return openedAt.saturatingAdd(policy.recoveryMs).saturatingSubtract(now)
    }

    public func recentFailures(at now: UInt64, policy: BreakerPolicy) -> Int {
        failures.count(where: { now.saturatingSubtract($0) < policy.windowMs })
    }

    /// For listings. `probesAllowed` is the policy's probe count in every state.
    public func info(at now: UInt64, policy: BreakerPolicy) -> Flotilla_V1_BreakerInfo {
        var info = Flotilla_V1_BreakerInfo()
        info.model = model
        info.state = phase(at: now, policy: policy).proto
        info.recentFailures = UInt32(clamping: recentFailures(at: now, policy: policy))
        info.nextTransitionMs = msUntilNextTransition(at: now, policy: policy)
        info.probesInFlight = UInt32(clamping: Swift.max(probesAdmitted - probesSucceeded, 0))
        info.probesSucceeded = UInt32(clamping: probesSucceeded)
        info.probesAllowed = UInt32(clamping: policy.effectiveHalfOpenProbes)
        info.fallbackChain = policy.fallbackChain(for: model)
        return info
    }

    // MARK: - Private

    /// Stores a due OPEN as HALF_OPEN with a fresh probe count.
    private mutating func settleHalfOpen() {
        guard state == .open else { return }
        state = .halfOpen
        clearProbes()
    }

    private mutating func open(at now: UInt64) {
        state = .open
        openedAt = now
        clearProbes()
    }

    private mutating func clearProbes() {
        probesAdmitted = 0
        probesSucceeded = 0
    }

    /// Drops failures outside the window, inserts `now` in order, and keeps
    /// at most `max(threshold, 64)` of the newest (a bound for OPEN, where
    /// failures keep coming without deciding anything).
    private mutating func addFailure(at now: UInt64, policy: BreakerPolicy) {
        failures.removeAll { now.saturatingSubtract($0) >= policy.windowMs }
        let index = failures.lastIndex { $0 <= now }.map { $0 + 1 } ?? 0
        failures.insert(now, at: index)
        let cap = Swift.max(policy.effectiveFailureThreshold, 64)
        if failures.count > cap { failures.removeFirst(failures.count - cap) }
    }
}
