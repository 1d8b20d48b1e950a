import FlotillaCoordinatorState
import FlotillaProto

/// The scheduler's configuration (coordinator keys `scheduler.*`). Defaults:
/// tier weights 6:3:1, a tier of aging per 5 minutes waited, a worker
/// reserved for a job that has waited 10 minutes, 60 s preemption grace.
public struct SchedulerPolicy: Hashable, Sendable {
    /// Weighted fair share between tiers: over time each tier gets GPU starts
    /// in proportion to its weight while all of them have work waiting.
    public var weights: [Flotilla_V1_Tier: UInt64] = [.premium: 6, .standard: 3, .free: 1]
    /// Each interval a job waits lifts it one tier for ordering; 0: no aging.
    public var agingIntervalMs: UInt64 = 300_000
    /// A job that has waited this long without fitting gets a worker reserved
    /// (nothing new starts there until it fits); 0: never.
    public var reserveAfterMs: UInt64 = 600_000
    public var preemption = PreemptionPolicy()
    public var retry = RetryPolicy()

    public init() {}

    public func weight(of tier: Flotilla_V1_Tier) -> UInt64 { max(1, weights[tier] ?? 1) }
}

public struct PreemptionPolicy: Hashable, Sendable {
    /// Premium jobs that cannot be placed may preempt lower tiers.
    public var enabled = true
    /// Time a victim gets to checkpoint before it is stopped without one.
    public var graceMs: UInt32 = 60_000
    /// No job is preempted again within this long of a preemption.
    public var windowMs: UInt64 = 600_000
    /// Tiers whose jobs may be preempted (turn one off by leaving it out).
    public var preemptibleTiers: Set<Flotilla_V1_Tier> = [.free, .standard]
    /// Preemption plans made per round, at most: bounds a full cluster's work.
    public var maxPlansPerRound = 4

    public init() {}
}

/// Exponential backoff with jitter between a job's failed attempts.
public struct RetryPolicy: Hashable, Sendable {
    public var baseMs: UInt64 = 1_000
    public var multiplier: UInt64 = 2
    public var maxMs: UInt64 = 60_000
    /// The delay varies by up to this many percent either way.
    public var jitterPercent: UInt64 = 20

    public init() {}

    /// The wait after the job's `failures`-th failed attempt. The jitter is a
    /// hash of the job and the count, not a random draw, so every replica and
    /// every planning round computes the same time.
    public func delayMs(job: JobID, failures: Int) -> UInt64 {
        guard failures > 0 else { return 0 }
        var delay = baseMs
        for _ in 1..<failures {
            let (next, overflow) = delay.multipliedReportingOverflow(by: max(1, multiplier))
            delay = overflow ? maxMs : min(next, maxMs)
            if delay >= maxMs { break }
        }
        delay = min(delay, maxMs)
        guard jitterPercent > 0, delay > 0 else { return delay }
        let spread = delay / 100 * min(jitterPercent, 100) + delay % 100 * min(jitterPercent, 100) / 100
        let draw = Self.hash("\(job.rawValue)#\(failures)") % (2 * spread + 1)
        return delay - spread + draw
    }

    /// FNV-1a: stable across processes (Swift's Hasher is seeded per process).
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return value
    }
}

extension Flotilla_V1_Tier {
    /// 0 for premium, 1 standard, 2 free: lower is more important.
    var rank: Int {
        switch self {
        case .premium: 0
        case .free: 2
        default: 1
        }
    }

    static func ranked(_ rank: Int) -> Flotilla_V1_Tier {
        switch rank {
        case ...0: .premium
        case 1: .standard
        default: .free
        }
    }
}
