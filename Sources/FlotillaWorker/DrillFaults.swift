import FlotillaProto

/// The drill fault a worker is playing, if any (PROTOCOL.md §14.2): a pure
/// value the agent asks before every heartbeat, report and directive. A
/// lasting fault ends by itself after its duration, whatever the coordinator does.
public struct DrillFaults: Sendable, Hashable {
    public enum Reaction: Sendable, Hashable {
        /// Not obeyed, with the reason to log.
        case refuse(String)
        case kill
        /// Damage this checkpoint file (under the checkpoint directory), then kill.
        case corruptThenKill(uri: String)
        case frozen(until: ContinuousClock.Instant)
        case slowed(by: Duration, until: ContinuousClock.Instant)
        case ended
    }

    public private(set) var frozenUntil: ContinuousClock.Instant?
    public private(set) var slowUntil: ContinuousClock.Instant?
    public private(set) var slowBy: Duration = .zero

    public init() {}

    /// A lasting fault is bounded here too, so a bad directive cannot silence a worker for long.
    public static let maxDuration = Duration.seconds(600)
    public static let maxDelay = Duration.seconds(60)

    public mutating func receive(_ fault: Flotilla_V1_DrillFault, allowed: Bool, at now: ContinuousClock.Instant) -> Reaction {
        guard allowed else { return .refuse("drills.allow is false in this worker's configuration") }
        let duration = min(.milliseconds(Int64(clamping: fault.durationMs)), Self.maxDuration)
        switch fault.action {
        case .kill:
            return .kill
        case .corruptCheckpoint:
            guard !fault.checkpointUri.isEmpty else { return .refuse("CORRUPT_CHECKPOINT names no checkpoint") }
            return .corruptThenKill(uri: fault.checkpointUri)
        case .freeze:
            guard duration > .zero else { return .refuse("FREEZE needs a duration") }
            frozenUntil = now + duration
            return .frozen(until: now + duration)
        case .slow:
            let delay = min(.milliseconds(Int64(clamping: fault.delayMs)), Self.maxDelay)
            guard duration > .zero, delay > .zero else { return .refuse("SLOW needs a duration and a delay") }
            slowUntil = now + duration
            slowBy = delay
            return .slowed(by: delay, until: now + duration)
        case .end:
            frozenUntil = nil
            slowUntil = nil
            slowBy = .zero
            return .ended
        case .unspecified, .UNRECOGNIZED:
            return .refuse("unknown drill action \(fault.action)")
        }
    }

    /// Until when the worker stays silent, if it is frozen now.
    public func frozen(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let frozenUntil, now < frozenUntil else { return nil }
        return frozenUntil
    }

    /// How long to hold each heartbeat and report back now.
    public func delay(at now: ContinuousClock.Instant) -> Duration {
        guard let slowUntil, now < slowUntil else { return .zero }
        return slowBy
    }
}
