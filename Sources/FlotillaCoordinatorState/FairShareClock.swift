import FlotillaProto

/// Start-time fair queuing between tiers, as the log recorded it. The leader's
/// scheduler (which knows the weights) computes a start's tags; applying the
/// assignment stores them, so every replica, and the next leader, continues
/// from the same clock.
public struct FairShareClock: Hashable, Sendable {
    /// The start tag of the latest start: a tier that was idle resumes from
    /// here rather than cashing in the time it had no work.
    public internal(set) var virtualTime: UInt64 = 0
    /// Each tier's finish tag: its next start's tag is max(pass, virtualTime).
    public internal(set) var pass: [Flotilla_V1_Tier: UInt64] = [:]

    public init() {}

    public func pass(of tier: Flotilla_V1_Tier) -> UInt64 { pass[tier] ?? 0 }

    mutating func record(tier: Flotilla_V1_Tier, start: UInt64, finish: UInt64) {
        pass[tier] = max(pass(of: tier), finish)
        virtualTime = max(virtualTime, start)
    }

    init(_ proto: Flotilla_V1_FairShareClock) {
        virtualTime = proto.virtualTime
        for (tier, value) in [(Flotilla_V1_Tier.premium, proto.premiumPass), (.standard, proto.standardPass),
                              (.free, proto.freePass)] where value > 0 {
            pass[tier] = value
        }
    }

    var proto: Flotilla_V1_FairShareClock {
        var proto = Flotilla_V1_FairShareClock()
        proto.virtualTime = virtualTime
        proto.premiumPass = pass(of: .premium)
        proto.standardPass = pass(of: .standard)
        proto.freePass = pass(of: .free)
        return proto
    }
}
