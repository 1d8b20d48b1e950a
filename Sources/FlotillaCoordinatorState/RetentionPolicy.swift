import FlotillaProto

/// How long finished jobs are kept, and how many. The leader proposes a
/// `PruneJobs` from it; applying that command reads only its own values, so
/// a change of policy never makes replicas disagree.
public struct RetentionPolicy: Hashable, Sendable {
    /// A terminal job is removed this long after it ended; 0: kept for any age.
    public var jobTTLMs: UInt64
    /// At most this many terminal jobs are kept, the oldest-ended go first; 0: no cap.
    public var maxTerminalJobs: UInt64
    /// Expired jobs are pruned at most this often (one batch, not one entry per job).
    public var everyMs: UInt64

    public static let defaultTTLMs: UInt64 = 24 * 60 * 60 * 1000
    public static let defaultMaxTerminalJobs: UInt64 = 100_000

    public init(jobTTLMs: UInt64 = Self.defaultTTLMs, maxTerminalJobs: UInt64 = Self.defaultMaxTerminalJobs,
                everyMs: UInt64 = 60_000) {
        self.jobTTLMs = jobTTLMs
        self.maxTerminalJobs = maxTerminalJobs
        self.everyMs = everyMs
    }

    /// The command to propose now, if one would remove anything: over the cap
    /// at once, expired jobs once `everyMs` has passed since `lastPrunedAt`.
    /// O(1): it looks at the terminal count and the oldest end only.
    public func command(for state: CoordinatorState, now: UInt64, lastPrunedAt: UInt64?) -> Flotilla_V1_Command? {
        let cutoff = jobTTLMs == 0 ? 0 : now.saturatingSubtract(jobTTLMs)
        let overCap = maxTerminalJobs > 0 && state.terminalJobCount > Int(clamping: maxTerminalJobs)
        let due = lastPrunedAt.map { now.saturatingSubtract($0) >= everyMs || now < $0 } ?? true
        let expired = (state.oldestTerminalEnd.map { $0 < cutoff } ?? false) && due
        guard overCap || expired else { return nil }
        return .pruneJobs(olderThan: cutoff, maxTerminalJobs: maxTerminalJobs, at: now)
    }
}
