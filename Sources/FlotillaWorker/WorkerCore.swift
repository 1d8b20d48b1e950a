/// The worker's decisions about its own life, as a value (shaped like SWIM's `Instance`):
/// events go in with the time they happened, directives come out, and the actor around it
/// (`WorkerAgent`) only carries them out. No clock, no I/O, no randomness: self-fencing and
/// shutdown are unit-tested here to the millisecond.
///
/// What it decides today: when to renew the jobs' supervisor leases and when to fence
/// (stop every attempt because the coordinator stopped acknowledging), and how a shutdown
/// proceeds (drain notice, checkpoints, finish as soon as nothing is left to report, stop
/// everything at the grace). Sessions, directives and reports stay in the agent for now.
public struct WorkerCore: Sendable {
    public enum Event: Sendable, Equatable {
        /// Registered, with the coordinator's heartbeat interval and timeout.
        case registered(interval: Duration, timeout: Duration)
        case heartbeatAcknowledged
        /// The lease timer (every `renewInterval`).
        case tick
        case shutdownRequested(reason: String, grace: Duration)
        /// What there is left to do changed: attempts ended, reports were delivered, the
        /// session came or went.
        case workChanged(Work)
    }

    /// What the shell tells the core about the work it holds.
    public struct Work: Sendable, Equatable {
        public var attempts: Int
        public var reportsPending: Bool
        public var connected: Bool

        public init(attempts: Int, reportsPending: Bool, connected: Bool) {
            self.attempts = attempts
            self.reportsPending = reportsPending
            self.connected = connected
        }

        public static let idle = Work(attempts: 0, reportsPending: false, connected: false)
    }

    public enum Directive: Sendable, Equatable {
        /// Tell every running job's supervisor the worker still holds its claim.
        case renewLeases
        /// No acknowledgement for `after`: stop every attempt now, before the coordinator
        /// gives them to someone else.
        case fence(after: Duration)
        /// Acknowledged again after fencing: work may be accepted again.
        case unfence
        /// Tell the coordinator this worker is draining (queued before other reports).
        case sendDrainNotice(reason: String)
        /// Ask every attempt to checkpoint and stop within `grace`.
        case checkpointAll(grace: Duration)
        /// The grace is over with work left: kill every attempt now.
        case stopAllNow
        /// Stop the worker.
        case finish(Finish)
    }

    public enum Finish: Sendable, Equatable {
        /// Every attempt ended and every report was delivered (or there is no coordinator to tell).
        case drained
        /// `drain_grace` passed first.
        case graceExpired(attempts: Int)
    }

    public private(set) var fencing = SelfFencing()
    public private(set) var fenced = false
    public private(set) var shutdownDeadline: ContinuousClock.Instant?
    public private(set) var finished = false
    public private(set) var work = Work.idle
    /// The newest leader term seen in a directive (see `admitsTerm`).
    public internal(set) var newestTerm: UInt64 = 0

    public init() {}

    public var isShuttingDown: Bool { shutdownDeadline != nil }

    public mutating func on(_ event: Event, at now: ContinuousClock.Instant) -> [Directive] {
        guard !finished else { return [] }
        switch event {
        case .registered(let interval, let timeout):
            fencing.heartbeatInterval = interval
            fencing.heartbeatTimeout = max(interval, timeout)
            return acknowledged(at: now)
        case .heartbeatAcknowledged:
            return acknowledged(at: now)
        case .tick:
            return tick(at: now)
        case .shutdownRequested(let reason, let grace):
            guard shutdownDeadline == nil else { return [] }
            shutdownDeadline = now + grace
            // Most of the grace goes to the jobs; the rest to delivering their reports.
            var directives: [Directive] = [.sendDrainNotice(reason: reason)]
            if work.attempts > 0 { directives.append(.checkpointAll(grace: grace * 3 / 4)) }
            return directives + finishIfDone()
        case .workChanged(let work):
            self.work = work
            return finishIfDone()
        }
    }

    private mutating func acknowledged(at now: ContinuousClock.Instant) -> [Directive] {
        fencing.acknowledged(at: now)
        guard fenced else { return [] }
        fenced = false
        return [.unfence]
    }

    private mutating func tick(at now: ContinuousClock.Instant) -> [Directive] {
        if let deadline = shutdownDeadline, now >= deadline {
            finished = true
            return work.attempts > 0 ? [.stopAllNow, .finish(.graceExpired(attempts: work.attempts))]
                : [.finish(.graceExpired(attempts: 0))]
        }
        guard work.attempts > 0 else { return [] }
        guard fencing.isFenced(at: now) else { return [.renewLeases] }
        guard !fenced else { return [] }
        fenced = true
        return [.fence(after: fencing.fenceAfter)]
    }

    /// A shutdown ends once no attempt is left and its reports are delivered; with no
    /// connection there is no one to deliver them to, and a container runtime kills a
    /// worker that waits about 10 s.
    private mutating func finishIfDone() -> [Directive] {
        guard shutdownDeadline != nil, work.attempts == 0, !work.reportsPending || !work.connected else { return [] }
        finished = true
        return [.finish(.drained)]
    }
}
