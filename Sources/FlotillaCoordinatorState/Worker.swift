import FlotillaProto

public enum WorkerState: Hashable, Sendable, CaseIterable {
    case ready, suspect, lost, draining, drained
}

/// Liveness as judged from heartbeats; `WorkerState` combines it with draining.
public enum WorkerHealth: Hashable, Sendable {
    case alive
    /// Missed heartbeats: shown, gets no new work.
    case suspect
    /// Timed out: its attempts were lost. It must register again.
    case lost
}

/// An operator's drain outlives the worker process; the worker's own
/// (SIGTERM) drain ends with it, so a restarted worker takes work again.
public struct Drain: Hashable, Sendable {
    public var reason: String
    public var byOperator: Bool
}

public struct Worker: Hashable, Sendable {
    public let id: WorkerID
    /// Log index of the first registration: the listing order.
    public let sequence: UInt64
    public let name: String
    public internal(set) var health: WorkerHealth
    public internal(set) var drain: Drain?
    public internal(set) var gpus: [Flotilla_V1_Gpu]
    public internal(set) var models: [String]
    public internal(set) var labels: [String: String]
    public internal(set) var region: String
    public internal(set) var software: String
    public internal(set) var address: String
    public internal(set) var registeredAt: UInt64
    public internal(set) var lastHeartbeatAt: UInt64
    /// GPU index -> the job whose live attempt holds it. Derived from the
    /// jobs' live attempts; kept here so placement need not scan every job.
    public internal(set) var allocations: [UInt32: JobID]
    /// Its configuration lets drills fault it (`drills.allow`); as last registered.
    public internal(set) var allowsDrills = false

    public var state: WorkerState {
        switch health {
        case .lost: .lost
        case .suspect: .suspect
        case .alive:
            if drain == nil { .ready } else if allocations.isEmpty { .drained } else { .draining }
        }
    }

    public var isDraining: Bool { drain != nil }
    /// READY and not draining: may be given new attempts.
    public var acceptsWork: Bool { state == .ready }
    public var gpusAllocated: Int { allocations.count }

    public func serves(model: String) -> Bool { models.contains(model) }

    /// Every pair the job requires is among the worker's labels.
    public func satisfies(labels required: [String: String]) -> Bool {
        required.allSatisfy { labels[$0.key] == $0.value }
    }

    /// Free GPUs of `type` (empty: any), lowest index first.
    public func freeGPUs(ofType type: String) -> [Flotilla_V1_Gpu] {
        gpus.filter { allocations[$0.index] == nil && Self.gpu($0, matches: type) }
            .sorted { $0.index < $1.index }
    }

    /// GPU types are compared without regard to case: "h100" asks for "H100".
    public static func gpu(_ gpu: Flotilla_V1_Gpu, matches type: String) -> Bool {
        type.isEmpty || gpu.type.lowercased() == type.lowercased()
    }
}
