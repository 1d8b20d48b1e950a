import FlotillaProto

// Domain states <-> their wire enums. Decoding refuses UNSPECIFIED and
// unknown values: they are never a valid state (PROTOCOL.md §11.1).

extension JobState {
    public var proto: Flotilla_V1_JobState {
        switch self {
        case .queued: .queued
        case .running: .running
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }

    public init?(_ proto: Flotilla_V1_JobState) {
        guard let state = Self.allCases.first(where: { $0.proto == proto }) else { return nil }
        self = state
    }
}

extension AttemptState {
    public var proto: Flotilla_V1_AttemptState {
        switch self {
        case .assigned: .assigned
        case .running: .running
        case .checkpointing: .checkpointing
        case .succeeded: .succeeded
        case .failed: .failed
        case .lost: .lost
        case .preempted: .preempted
        case .cancelled: .cancelled
        }
    }

    init?(_ proto: Flotilla_V1_AttemptState) {
        guard let state = Self.allCases.first(where: { $0.proto == proto }) else { return nil }
        self = state
    }
}

extension WorkerState {
    public var proto: Flotilla_V1_WorkerState {
        switch self {
        case .ready: .ready
        case .suspect: .suspect
        case .lost: .lost
        case .draining: .draining
        case .drained: .drained
        }
    }

    init?(_ proto: Flotilla_V1_WorkerState) {
        guard let state = Self.allCases.first(where: { $0.proto == proto }) else { return nil }
        self = state
    }
}
