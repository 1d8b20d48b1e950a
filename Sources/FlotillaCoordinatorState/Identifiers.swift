/// A job's id: assigned when its submission is applied, from the entry's index
/// (and the owning region), so every replica assigns the same one.
public struct JobID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// `job-<index>`, or `job-<region>-<index>` so that regions replicating
    /// job records to each other never collide.
    init(submittedAt index: UInt64, region: String) {
        rawValue = region.isEmpty ? "job-\(index)" : "job-\(region)-\(index)"
    }

    public var description: String { rawValue }
}

/// A worker's id: assigned at its first registration, from the entry's index.
/// Registering again under the same name keeps it (PROTOCOL.md §11.3). `w-<index>`,
/// short and unlike the `worker-1` style names operators give, so tables that
/// show both are not confusing.
public struct WorkerID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    init(registeredAt index: UInt64) { rawValue = "w-\(index)" }

    public var description: String { rawValue }
}
