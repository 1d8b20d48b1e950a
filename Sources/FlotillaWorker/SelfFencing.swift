/// When a worker that has lost its coordinator must stop its own attempts, so that they
/// are dead before the coordinator gives them to someone else (Nomad's
/// `stop_after_client_disconnect`, made automatic). A pure value over an injected clock.
///
/// The coordinator declares a worker lost `heartbeatTimeout` after the last heartbeat it
/// received. The worker counts from the last acknowledgement it received, which is later,
/// so its deadlines fall earlier than the coordinator's:
///
///     last ack ── fenceAfter ──> worker stops renewing and kills its attempts
///                              ── leaseTimeout ──> supervisors kill what is left
///     last heartbeat received ───────── heartbeatTimeout ─────────> coordinator reassigns
///
/// `fenceAfter` lies a third of the way from the heartbeat interval (one missed beat is no
/// reason to fence) to the timeout; the lease takes half of what remains, leaving the
/// other half as margin. Defaults 5 s / 15 s: fence at 8.3 s, every job dead by 11.7 s.
public struct SelfFencing: Sendable, Hashable {
    public var heartbeatInterval: Duration
    public var heartbeatTimeout: Duration
    /// The last acknowledged heartbeat or registration; nil before the first.
    public private(set) var lastAcknowledged: ContinuousClock.Instant?

    public init(heartbeatInterval: Duration = .seconds(5), heartbeatTimeout: Duration = .seconds(15)) {
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = max(heartbeatTimeout, heartbeatInterval)
    }

    public var fenceAfter: Duration {
        heartbeatInterval + (heartbeatTimeout - heartbeatInterval) / 3
    }

    /// How long a job's supervisor waits for a renewal before killing the job.
    public var leaseTimeout: Duration {
        max((heartbeatTimeout - fenceAfter) / 2, .milliseconds(100))
    }

    /// How often the worker renews its jobs' leases while not fenced: a quarter of the
    /// lease, and at least ten times a second (a renewal is a byte on a pipe).
    public var renewInterval: Duration { min(leaseTimeout / 4, .milliseconds(100)) }

    public mutating func acknowledged(at now: ContinuousClock.Instant) {
        lastAcknowledged = now
    }

    /// True once no acknowledgement came for `fenceAfter` (and before any came at all:
    /// a worker that never registered runs nothing).
    public func isFenced(at now: ContinuousClock.Instant) -> Bool {
        guard let lastAcknowledged else { return true }
        return now - lastAcknowledged >= fenceAfter
    }
}
