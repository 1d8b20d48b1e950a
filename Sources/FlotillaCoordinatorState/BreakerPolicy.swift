import FlotillaProto

/// Per-model circuit breaker parameters (BRIEF.md "Circuit breakers"):
/// OPEN after `failureThreshold` failures within `windowMs`, HALF_OPEN
/// `recoveryMs` after opening, CLOSED again once `halfOpenProbes` probes
/// succeed. `fallbacks` maps a model to the next model of its fallback chain.
///
/// Absurd values never trap: a threshold or probe count below 1 acts as 1.
public struct BreakerPolicy: Hashable, Sendable {
    public var failureThreshold: Int
    public var windowMs: UInt64
    public var recoveryMs: UInt64
    public var halfOpenProbes: Int
    public var fallbacks: [String: String]

    public init(failureThreshold: Int = 5, windowMs: UInt64 = 60_000, recoveryMs: UInt64 = 30_000,
                halfOpenProbes: Int = 3, fallbacks: [String: String] = [:]) {
        self.failureThreshold = failureThreshold
        self.windowMs = windowMs
        self.recoveryMs = recoveryMs
        self.halfOpenProbes = halfOpenProbes
        self.fallbacks = fallbacks
    }

    /// A zero field means the default.
    public init(_ proto: Flotilla_V1_BreakerPolicy) {
        let defaults = BreakerPolicy()
        self.init(
            failureThreshold: proto.failureThreshold == 0 ? defaults.failureThreshold : Int(proto.failureThreshold),
            windowMs: proto.windowMs == 0 ? defaults.windowMs : proto.windowMs,
            recoveryMs: proto.recoveryMs == 0 ? defaults.recoveryMs : proto.recoveryMs,
            halfOpenProbes: proto.halfOpenProbes == 0 ? defaults.halfOpenProbes : Int(proto.halfOpenProbes),
            fallbacks: proto.fallbacks)
    }

    /// Counts are clamped into `UInt32` (a value below 1 becomes 0, which
    /// reads back as the default).
    public var proto: Flotilla_V1_BreakerPolicy {
        var proto = Flotilla_V1_BreakerPolicy()
        proto.failureThreshold = UInt32(clamping: failureThreshold)
        proto.windowMs = windowMs
        proto.recoveryMs = recoveryMs
        proto.halfOpenProbes = UInt32(clamping: halfOpenProbes)
        proto.fallbacks = fallbacks
        return proto
    }

    /// The models after `model` in its chain, following `fallbacks`, stopping
    /// at a cycle or at `model` itself (an empty name also ends the chain).
    public func fallbackChain(for model: String) -> [String] {
        var chain: [String] = []
        var seen: Set<String> = [model]
        var current = model
        while let next = fallbacks[current], !next.isEmpty, seen.insert(next).inserted {
            chain.append(next)
            current = next
        }
        return chain
    }

    /// The threshold as applied: at least 1.
    var effectiveFailureThreshold: Int { Swift.max(failureThreshold, 1) }

    /// The probes admitted per HALF_OPEN period as applied: at least 1, at
    /// most `UInt32.max` (what a record can hold).
    var effectiveHalfOpenProbes: Int { Swift.min(Swift.max(halfOpenProbes, 1), Int(UInt32.max)) }
}

public enum BreakerPhase: Hashable, Sendable {
    case closed, open, halfOpen
}

extension BreakerPhase {
    public var proto: Flotilla_V1_BreakerState {
        switch self {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        }
    }

    /// UNSPECIFIED and unknown values read as CLOSED (a breaker never seen
    /// failing).
    public init(_ proto: Flotilla_V1_BreakerState) {
        switch proto {
        case .open: self = .open
        case .halfOpen: self = .halfOpen
        default: self = .closed
        }
    }
}

public enum BreakerAdmission: Hashable, Sendable {
    /// CLOSED: the job runs normally.
    case allowed
    /// HALF_OPEN with a probe slot free: the job may run as a probe
    /// (call `CircuitBreaker.admitProbe` when it is placed).
    case probe
    /// OPEN: `retryAfterMs` is the time until HALF_OPEN (at least 1).
    /// HALF_OPEN with every probe slot taken: `CircuitBreaker.probesBusyRetryAfterMs`.
    case refused(retryAfterMs: UInt64)
}
