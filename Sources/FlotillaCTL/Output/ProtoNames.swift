import FlotillaProto

// The names people type and read (PROTOCOL.md vocabulary), without the proto prefixes
// that --json keeps ("RUNNING", not "JOB_STATE_RUNNING").

extension Flotilla_V1_JobState {
    var name: String {
        switch self {
        case .unspecified: return "UNKNOWN"
        case .queued: return "QUEUED"
        case .running: return "RUNNING"
        case .succeeded: return "SUCCEEDED"
        case .failed: return "FAILED"
        case .cancelled: return "CANCELLED"
        case .UNRECOGNIZED(let value): return "STATE_\(value)"
        }
    }

    /// Exactly one of these ends a job; nothing follows it.
    var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

extension Flotilla_V1_AttemptState {
    var name: String {
        switch self {
        case .unspecified: return "UNKNOWN"
        case .assigned: return "ASSIGNED"
        case .running: return "RUNNING"
        case .checkpointing: return "CHECKPOINTING"
        case .succeeded: return "SUCCEEDED"
        case .failed: return "FAILED"
        case .lost: return "LOST"
        case .preempted: return "PREEMPTED"
        case .cancelled: return "CANCELLED"
        case .UNRECOGNIZED(let value): return "STATE_\(value)"
        }
    }
}

extension Flotilla_V1_WorkerState {
    var name: String {
        switch self {
        case .unspecified: return "UNKNOWN"
        case .ready: return "READY"
        case .suspect: return "SUSPECT"
        case .lost: return "LOST"
        case .draining: return "DRAINING"
        case .drained: return "DRAINED"
        case .UNRECOGNIZED(let value): return "STATE_\(value)"
        }
    }
}

extension Flotilla_V1_CoordinatorState {
    var name: String {
        switch self {
        case .unspecified: return "UNKNOWN"
        case .leader: return "LEADER"
        case .follower: return "FOLLOWER"
        case .candidate: return "CANDIDATE"
        case .UNRECOGNIZED(let value): return "STATE_\(value)"
        }
    }
}

extension Flotilla_V1_Tier {
    var name: String {
        switch self {
        case .unspecified: return "-"
        case .premium: return "premium"
        case .standard: return "standard"
        case .free: return "free"
        case .UNRECOGNIZED(let value): return "tier-\(value)"
        }
    }
}

extension Flotilla_V1_BreakerState {
    var name: String {
        switch self {
        case .unspecified: return "UNKNOWN"
        case .closed: return "CLOSED"
        case .open: return "OPEN"
        case .halfOpen: return "HALF_OPEN"
        case .UNRECOGNIZED(let value): return "STATE_\(value)"
        }
    }
}
