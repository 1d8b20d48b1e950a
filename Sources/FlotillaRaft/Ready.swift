/// What the shell must do next, in this order (etcd's Ready contract):
/// 1. store `snapshot` (if any), then `entries` (replacing any stored entries from the first
///    one's index on), then `hardState`, and sync;
/// 2. send `messages`;
/// 3. restore the state machine from `snapshot` and apply `committedEntries`;
/// 4. call `advance(_:)` with this Ready.
public struct Ready: Equatable, Sendable {
    public var hardState: HardState?
    public var entries: [Entry] = []
    public var snapshot: Snapshot?
    public var committedEntries: [Entry] = []
    public var messages: [Message] = []
    public var readStates: [ReadState] = []
    /// The role and leader, when either changed since the last Ready.
    public var leadership: Leadership?

    public var mustSync: Bool { hardState != nil || !entries.isEmpty || snapshot != nil }
}

/// Who this node is in its group right now.
public struct Leadership: Equatable, Sendable {
    public var role: Role
    public var leader: NodeID?
    public var term: UInt64
}
