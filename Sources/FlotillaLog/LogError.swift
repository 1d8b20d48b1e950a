#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why the log refused an operation or refused to open.
public enum LogError: Error, Hashable, CustomStringConvertible {
    /// Another process (or another open log in this one) holds the data directory.
    case directoryLocked(directory: String, holderPID: Int32?)
    /// Damage that is not a torn tail: acknowledged records may be behind it, so the log
    /// refuses to open rather than drop them.
    case corruptSegment(path: String, offset: Int, reason: String)
    /// Entries between the snapshot and the segments, or between two segments, are gone.
    case missingEntries(directory: String, from: UInt64, through: UInt64)
    case corruptSnapshot(path: String, reason: String)
    /// The entries that remain end before the durability marker: acknowledged entries are
    /// gone (the last segment removed, zeroed, or damaged with whole records after the damage).
    case durableEntriesMissing(directory: String, durableThrough: UInt64, recoverableThrough: UInt64, reason: String)
    /// The log holds the marker's entry with another term: not the entries that were made durable.
    case durableTermMismatch(directory: String, index: UInt64, durableTerm: UInt64, logTerm: UInt64)
    /// The `DURABLE` file is not one whole mark, so what was durable is unknown.
    case corruptDurableMarker(path: String, reason: String)
    /// The `CONSENSUS` file is damaged: the member's term and vote are unknown.
    case corruptConsensusState(path: String, reason: String)
    /// The `FOUNDERS` file is damaged: the voters the group was founded with are unknown.
    case corruptFoundingMembers(path: String, reason: String)
    /// A repair was pointed at a directory that holds no log.
    case noLog(directory: String)
    /// An append whose first entry does not follow the last one.
    case nonContiguousAppend(expected: UInt64, got: UInt64)
    /// A read of entries that a snapshot has replaced.
    case compacted(index: UInt64, firstIndex: UInt64)
    /// Entries up to the snapshot are committed and cannot be removed.
    case truncateBelowSnapshot(index: UInt64, snapshotIndex: UInt64)
    case staleSnapshot(index: UInt64, snapshotIndex: UInt64)
    /// The log holds the snapshot's index with another term: the snapshot does not describe this log.
    case snapshotTermMismatch(index: UInt64, snapshotTerm: UInt64, logTerm: UInt64)
    case payloadTooLarge(size: Int, limit: Int)
    case io(operation: String, path: String, errno: Int32)
    /// An earlier write or sync failed; what reached the disk is unknown until the log is reopened.
    case unusable(reason: String)
    case closed

    public var description: String {
        switch self {
        case .directoryLocked(let directory, let pid):
            let holder = pid.map { "process \($0)" } ?? "another process"
            return "log directory \(directory) is locked by \(holder); is another coordinator using it?"
        case .corruptSegment(let path, let offset, let reason):
            return "corrupt log segment \(path) at offset \(offset): \(reason); "
                + "refusing to open rather than drop acknowledged records. To accept the loss, "
                + Self.repairHint(directory: parent(of: path))
        case .missingEntries(let directory, let from, let through):
            return "log in \(directory) is missing entries \(from) through \(through); refusing to open. "
                + "To accept the loss, " + Self.repairHint(directory: directory)
        case .corruptSnapshot(let path, let reason):
            return "corrupt snapshot \(path): \(reason)"
        case .durableEntriesMissing(let directory, let durable, let recoverable, let reason):
            return "log in \(directory) has lost entries \(recoverable + 1) through \(durable), which were "
                + "acknowledged as durable: \(reason); refusing to open rather than run without them. "
                + "To accept the loss, "
                + Self.repairHint(directory: directory, dropping: durable - recoverable, keeping: recoverable)
        case .durableTermMismatch(let directory, let index, let durableTerm, let logTerm):
            return "log in \(directory) holds entry \(index) of term \(logTerm), but entry \(index) of term "
                + "\(durableTerm) was acknowledged as durable: these segments are not that log; refusing to open. "
                + "If they are the right files, " + Self.repairHint(directory: directory)
        case .corruptDurableMarker(let path, let reason):
            return "durability marker \(path) is unreadable: \(reason); without it the log cannot tell lost "
                + "entries from an unsynced tail, so it refuses to open. To rewrite it from the entries on disk, "
                + Self.repairHint(directory: parent(of: path))
        case .corruptConsensusState(let path, let reason):
            return "consensus state \(path) is unreadable: \(reason); this member's term and vote are unknown, "
                + "and voting again could elect two leaders in one term, so it refuses to start. Remove the "
                + "member's data directory and add it back as a new member (see the README, replacing a member)"
        case .corruptFoundingMembers(let path, let reason):
            return "founding members \(path) are unreadable: \(reason); this member cannot tell whom its group "
                + "counts a majority of, so it refuses to start. Remove the member's data directory and add it "
                + "back as a new member (see the README, replacing a member)"
        case .noLog(let directory):
            return "\(directory) holds no log (no segment, snapshot or \(DurabilityMarker.fileName) file)"
        case .nonContiguousAppend(let expected, let got):
            return "append must start at index \(expected), got \(got)"
        case .compacted(let index, let firstIndex):
            return "entry \(index) was compacted into a snapshot; the log starts at \(firstIndex)"
        case .truncateBelowSnapshot(let index, let snapshotIndex):
            return "cannot truncate after \(index): entries through \(snapshotIndex) are in a snapshot"
        case .staleSnapshot(let index, let snapshotIndex):
            return "snapshot at \(index) is older than the current one at \(snapshotIndex)"
        case .snapshotTermMismatch(let index, let snapshotTerm, let logTerm):
            return "snapshot at \(index) has term \(snapshotTerm) but the log's entry \(index) has term \(logTerm)"
        case .payloadTooLarge(let size, let limit):
            return "payload of \(size) bytes exceeds the limit of \(limit) bytes"
        case .io(let operation, let path, let errno):
            return "\(operation) \(path) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .unusable(let reason):
            return "log is unusable until reopened: \(reason)"
        case .closed:
            return "log is closed"
        }
    }

    /// The way out of a refused open: the repair command, and what it costs.
    private static func repairHint(directory: String, dropping: UInt64? = nil, keeping: UInt64? = nil) -> String {
        let cost =
            if let dropping, let keeping {
                "it keeps entries through \(keeping) and drops everything after, at least the "
                    + (dropping == 1 ? "1 entry" : "\(dropping) entries") + " through \(keeping + dropping)"
            } else {
                "it keeps the entries before the damage and drops the rest"
            }
        return "run `flotilla-coordinator repair-log --data-dir \(directory)`: \(cost) "
            + "(`--dry-run` reports what it would drop, changing nothing)"
    }

    private func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
