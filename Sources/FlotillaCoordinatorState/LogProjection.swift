/// The state a leader's log leads to: the committed state with every entry appended since
/// applied as well. A leader's entries commit in order or not at all (an entry commits only
/// with every one before it), so this is the state the commit reaches while the leader
/// lasts. The planner plans from it, not from the committed state: a GPU that a result still
/// in flight frees takes its next job in the same commit round, and the planner's next round
/// need not wait for its last one to commit to know which jobs and GPUs that one took.
///
/// Nothing depends on the projection being right. Applying an entry re-checks everything a
/// command relied on (`assignAttempt` refuses a job that is no longer queued or a GPU that is
/// not free), and directives leave only when their entries commit, so a wrong projection
/// costs refused commands, never a job placed twice. It is a copy of the state: a leader holds
/// the state twice, and applies each of its entries twice.
public struct LogProjection: Sendable {
    public private(set) var state: CoordinatorState

    public init(from committed: CoordinatorState) {
        state = committed
    }

    /// The last entry projected.
    public var lastIndex: UInt64 { state.lastAppliedIndex }

    /// Projects the command appended at `record.index`. Nil, and no change, when the entry
    /// does not follow the last one projected.
    public mutating func append(_ record: LogEntryRecord) -> CommandOutcome? {
        guard record.index == state.lastAppliedIndex + 1 else { return nil }
        return state.apply(record)
    }

    /// Projects an entry that holds no command (a Raft leader's empty entry, a membership
    /// change). False, and no change, when it does not follow the last one projected.
    @discardableResult
    public mutating func appendWithoutCommand(index: UInt64, term: UInt64) -> Bool {
        state.skip(index: index, term: term)
    }

    /// An entry of the log as the projection takes it.
    public enum LoggedEntry: Sendable {
        case command(LogEntryRecord)
        /// No command, or one that cannot be read (applying skips it too).
        case noCommand(term: UInt64)

        /// An entry of the replicated log holding `command` (a `LogEntryRecord` payload), or
        /// none (a leader's empty entry, a membership change).
        public init(index: UInt64, term: UInt64, command: [UInt8]?) {
            if let command, let record = try? LogEntryRecord(index: index, term: term, payload: command) {
                self = .command(record)
            } else {
                self = .noCommand(term: term)
            }
        }
    }

    /// Projects the log's entries after the last one projected, through `last`, reading each
    /// from `entry`. False when an entry is missing or does not follow: the projection is
    /// then out of step and must start again.
    public mutating func catchUp(through last: UInt64, entry: (UInt64) -> LoggedEntry?) -> Bool {
        while state.lastAppliedIndex < last {
            let index = state.lastAppliedIndex + 1
            switch entry(index) {
            case .command(let record):
                guard append(record) != nil else { return false }
            case .noCommand(let term):
                appendWithoutCommand(index: index, term: term)
            case nil:
                return false
            }
        }
        return true
    }

    /// Whether the committed state applied entries the projection never saw: it is then
    /// behind what the log holds and must start again from the committed state.
    public func isBehind(_ committed: CoordinatorState) -> Bool {
        state.lastAppliedIndex < committed.lastAppliedIndex
    }
}
