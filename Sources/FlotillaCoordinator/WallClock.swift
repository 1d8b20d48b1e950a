import Foundation

/// Where the coordinator's shell reads the time it stamps on commands. The
/// state machine and planner never read a clock; tests inject one here.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMs() -> UInt64
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMs() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1_000)) }
}
