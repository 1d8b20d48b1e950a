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
                + "refusing to open rather than drop acknowledged records"
        case .missingEntries(let directory, let from, let through):
            return "log in \(directory) is missing entries \(from) through \(through)"
        case .corruptSnapshot(let path, let reason):
            return "corrupt snapshot \(path): \(reason)"
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
}
