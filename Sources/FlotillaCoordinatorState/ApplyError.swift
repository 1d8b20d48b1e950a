/// Entries that must stop a coordinator rather than be applied as no-ops: a no-op would
/// silently freeze the state at the gap, or let replicas of different versions diverge.
public enum ApplyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The log skips entries: `expected` is the next index, `found` the one given.
    case gap(expected: UInt64, found: UInt64)
    /// The entry's command is of a kind this binary does not know (a newer version wrote it).
    case unknownCommand(index: UInt64)

    public var description: String {
        switch self {
        case .gap(let expected, let found):
            return "the log skips from entry \(expected - 1) to \(found): entries \(expected)...\(found - 1) are missing"
        case .unknownCommand(let index):
            return "entry \(index) holds a command this coordinator version does not know; "
                + "run the version that wrote it (or a newer one)"
        }
    }
}

extension CoordinatorState {
    /// `apply`, refusing what must not be applied as a no-op. Entries a snapshot already
    /// covers are still skipped as duplicates.
    public mutating func applyChecked(_ entry: LogEntryRecord) throws(ApplyError) -> CommandOutcome {
        if entry.index > lastAppliedIndex + 1 { throw .gap(expected: lastAppliedIndex + 1, found: entry.index) }
        if entry.index == lastAppliedIndex + 1, entry.command.kind == nil { throw .unknownCommand(index: entry.index) }
        return apply(entry)
    }
}
