/// One entry of the log. The payload is opaque here: the coordinator's state machine
/// encodes its commands into it.
public struct LogEntry: Sendable, Hashable {
    /// Position in the log, from 1, without gaps.
    public var index: UInt64
    /// The leader term that created the entry (Raft); a single coordinator uses one term.
    public var term: UInt64
    public var payload: [UInt8]

    public init(index: UInt64, term: UInt64, payload: [UInt8]) {
        self.index = index
        self.term = term
        self.payload = payload
    }
}

/// The state machine's state as of `index` (whose entry had `term`): it replaces every
/// entry up to and including `index`.
public struct LogSnapshot: Sendable, Hashable {
    public var index: UInt64
    public var term: UInt64
    public var data: [UInt8]

    public init(index: UInt64, term: UInt64, data: [UInt8]) {
        self.index = index
        self.term = term
        self.data = data
    }
}
