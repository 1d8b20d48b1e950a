/// Health timings (BRIEF.md "Health"; the seeds' worker health table).
public struct HealthPolicy: Hashable, Sendable {
    public var heartbeatIntervalMs: UInt64
    /// Silence of this many intervals makes a worker SUSPECT.
    public var missedHeartbeatsBeforeSuspect: UInt64
    /// Silence past this makes a worker LOST and its jobs move.
    public var heartbeatTimeoutMs: UInt64
    /// No progress for this long: checkpoint and reassign.
    public var stallTimeoutMs: UInt64
    /// After becoming leader, nothing is declared lost or stalled for this
    /// long: workers need time to reconnect and re-report, and a restart must
    /// not reschedule the whole cluster.
    public var restartGraceMs: UInt64
    /// Time an attempt gets to checkpoint when asked (stall) before it is
    /// treated as stopped without one.
    public var checkpointGraceMs: UInt32

    /// The restart grace defaults to one heartbeat timeout.
    public init(heartbeatIntervalMs: UInt64 = 5_000, missedHeartbeatsBeforeSuspect: UInt64 = 2,
                heartbeatTimeoutMs: UInt64 = 15_000, stallTimeoutMs: UInt64 = 60_000,
                restartGraceMs: UInt64? = nil, checkpointGraceMs: UInt32 = 15_000) {
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.missedHeartbeatsBeforeSuspect = missedHeartbeatsBeforeSuspect
        self.heartbeatTimeoutMs = heartbeatTimeoutMs
        self.stallTimeoutMs = stallTimeoutMs
        self.restartGraceMs = restartGraceMs ?? heartbeatTimeoutMs
        self.checkpointGraceMs = checkpointGraceMs
    }

    public var suspectAfterMs: UInt64 {
        let (product, overflow) = heartbeatIntervalMs.multipliedReportingOverflow(by: missedHeartbeatsBeforeSuspect)
        return overflow ? .max : product
    }
}
