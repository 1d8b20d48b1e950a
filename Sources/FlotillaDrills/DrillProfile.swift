import FlotillaProto

/// What each drill kind claims and is judged against. The objectives are the
/// seeds' recovery times (single GPU failure 30 s, zone failure 5 min); an
/// operator may override them per drill (`objective_ms`).
public struct DrillProfile: Sendable, Hashable {
    public let kind: Flotilla_V1_DrillRequest.Kind
    /// The command-line name, e.g. `kill-worker`.
    public let name: String
    public let hypothesis: String
    /// Recovery objective; 0: the kind has none (slow-worker is judged on failures).
    public let defaultObjectiveMs: UInt64
    /// The fault lasts a while (freeze, slow, zone) rather than happening once (kill).
    public let lasts: Bool

    public static let defaultTimeoutMs: UInt64 = 120_000
    public static let defaultDurationMs: UInt64 = 20_000
    public static let defaultDelayMs: UInt64 = 1_000
    public static let maxDurationMs: UInt64 = 600_000
    public static let maxDelayMs: UInt64 = 60_000
    public static let maxTimeoutMs: UInt64 = 3_600_000

    /// The profile of a kind a coordinator runs; nil for kinds it does not
    /// (region failover belongs to routers).
    public static func of(_ kind: Flotilla_V1_DrillRequest.Kind) -> DrillProfile? {
        switch kind {
        case .killWorker:
            DrillProfile(kind: kind, name: "kill-worker", hypothesis:
                "every job running on the killed worker resumes elsewhere from its latest verified checkpoint and runs again",
                defaultObjectiveMs: 30_000, lasts: false)
        case .freezeWorker:
            DrillProfile(kind: kind, name: "freeze-worker", hypothesis:
                "every job on the frozen worker resumes elsewhere from its latest checkpoint; when the worker wakes, its stale attempts are fenced and no job runs twice",
                defaultObjectiveMs: 30_000, lasts: true)
        case .corruptCheckpoint:
            DrillProfile(kind: kind, name: "corrupt-checkpoint", hypothesis:
                "the resuming worker detects the damaged checkpoint, the job restarts from step 0 and runs again, and its events say so",
                defaultObjectiveMs: 30_000, lasts: false)
        case .slowWorker:
            DrillProfile(kind: kind, name: "slow-worker", hypothesis:
                "with reports and heartbeats delayed below the suspicion threshold, the queue adapts: no job fails and no worker is declared lost",
                defaultObjectiveMs: 0, lasts: true)
        case .leaderFailover:
            DrillProfile(kind: kind, name: "leader-failover", hypothesis:
                "another coordinator is elected and serves within the objective; no acknowledged job is lost, none runs twice, and no running job is restarted",
                defaultObjectiveMs: LeaderFailover.killObjectiveMs, lasts: false)
        case .failZone:
            DrillProfile(kind: kind, name: "fail-zone", hypothesis:
                "the zone's jobs resume on other zones, and new work goes to other zones until the zone returns",
                defaultObjectiveMs: 300_000, lasts: true)
        default:
            nil
        }
    }

    /// The objective in words, for the report.
    public func objectiveText(_ objectiveMs: UInt64) -> String {
        if kind == .slowWorker { return "no failed jobs and no worker declared lost" }
        if kind == .leaderFailover { return "a new leader within \(DrillClock.text(ms: objectiveMs))" }
        return "running again within \(DrillClock.text(ms: objectiveMs))"
    }
}

/// Millisecond figures as the reports print them.
public enum DrillClock {
    /// 1500 → "1.5s", 30000 → "30s", 250 → "250ms".
    public static func text(ms: UInt64) -> String {
        if ms < 1_000 { return "\(ms)ms" }
        if ms % 1_000 == 0 { return "\(ms / 1_000)s" }
        let tenths = (ms + 50) / 100
        return "\(tenths / 10).\(tenths % 10)s"
    }

    /// A timeline offset: "+12.345s", "-0.512s".
    public static func offset(ms: Int64) -> String {
        let sign = ms < 0 ? "-" : "+"
        let magnitude = ms.magnitude
        let fraction = String(magnitude % 1_000)
        return "\(sign)\(magnitude / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }
}
