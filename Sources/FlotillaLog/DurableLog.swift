import Foundation
import Logging

/// The coordinator's durable log: entries `(index, term, payload)` in segment files of
/// CRC32C-checked records, plus at most one snapshot that replaces the entries up to it.
/// The format is in `LogRecord` and `proto-spec/LOG-FORMAT.md`.
///
/// An append returns once its records are on disk (fdatasync) and the durability mark
/// (the `DURABLE` file) covers them; appends from many tasks share syncs (group commit, see
/// `syncCount`). Opening locks the directory against a second process, loads the
/// snapshot's position, checks every segment and truncates a torn tail left by a crash,
/// with a warning through the logger, but refuses a log that ends before its mark: a
/// log that lost acknowledged entries opens only after `repair(directory:)`, on an
/// operator's word. Reads see durable entries.
///
/// The payload is opaque: the state machine above encodes its commands into it.
public final class DurableLog: Sendable {
    public struct Configuration: Sendable {
        /// A segment is closed and the next one started when a record would take it past
        /// this size (a record larger than it gets a segment to itself).
        public var segmentSize: Int
        /// Appends with a larger payload are refused, as are payloads past the record
        /// format's limit of 4 GiB - 16 bytes whatever this says.
        public var maxPayloadSize: Int

        public init(segmentSize: Int = 64 << 20, maxPayloadSize: Int = 16 << 20) {
            self.segmentSize = segmentSize
            self.maxPayloadSize = maxPayloadSize
        }
    }

    public let directory: String
    private let configuration: Configuration
    private let store: SegmentStore
    private let committer: GroupCommitter

    private init(directory: String, configuration: Configuration, store: SegmentStore) {
        self.directory = directory
        self.configuration = configuration
        self.store = store
        self.committer = GroupCommitter(store: store)
    }

    /// Whether `directory` holds a log: a durability marker, a segment or a snapshot (an
    /// absent or empty directory holds none).
    public static func holdsLog(directory: String) -> Bool {
        guard let names = try? DiskFile.list(directory) else { return false }
        return names.contains {
            $0 == DurabilityMarker.fileName || Segment.firstIndex(fileName: $0) != nil || SnapshotStore.parse(fileName: $0) != nil
        }
    }

    /// Opens the log in `directory`, creating it if needed.
    ///
    /// - Throws: `LogError.directoryLocked` if another open log holds the directory;
    ///   `LogError.durableEntriesMissing` or `.durableTermMismatch` when the log ends before,
    ///   or differs at, its durability mark; `LogError.corruptSegment`, `.missingEntries`,
    ///   `.corruptSnapshot` or `.corruptDurableMarker` for damage that is not a torn tail;
    ///   `LogError.io` for failed system calls. A refused open changes nothing on disk.
    public static func open(
        directory: String, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "flotilla.log")
    ) throws -> DurableLog {
        try DiskFile.createDirectory(directory)
        let directoryLock = try DirectoryLock(directory: directory)
        let recovered = try LogRecovery.recover(directory: directory, logger: logger)
        let segments = recovered.segments
        let store = SegmentStore(
            directory: directory, segmentSize: configuration.segmentSize,
            snapshots: SnapshotStore(directory: directory),
            snapshotIndex: recovered.snapshot?.index ?? 0, snapshotTerm: recovered.snapshot?.term ?? 0,
            segments: segments, marker: recovered.marker, mark: recovered.mark, directoryLock: directoryLock)
        logger.debug(
            "opened log",
            metadata: [
                "flotilla.log.directory": "\(directory)",
                "flotilla.log.snapshot_index": "\(store.snapshotPoint.index)",
                "flotilla.log.last_index": "\(store.lastIndex)",
                "flotilla.log.segments": "\(segments.count)",
            ])
        return DurableLog(directory: directory, configuration: configuration, store: store)
    }

    deinit {
        _ = committer.submit(.close(done: nil))
    }

    // MARK: Position

    /// The first entry the log holds: one past the snapshot (1 without one).
    public var firstIndex: UInt64 { store.snapshotPoint.index + 1 }
    /// The last durable entry's index; the snapshot's when no entry follows it; 0 when empty.
    public var lastIndex: UInt64 { store.lastIndex }
    /// The last durable entry's term, or the snapshot's.
    public var lastTerm: UInt64 { store.lastTerm }
    /// The index the snapshot covers through; 0 without one.
    public var snapshotIndex: UInt64 { store.snapshotPoint.index }
    public var snapshotTerm: UInt64 { store.snapshotPoint.term }
    /// How many times segment data was synced (fdatasync) since opening; with group commit
    /// this grows much more slowly than the number of appends. Marker syncs are not counted.
    public var syncCount: UInt64 { store.syncCount }
    /// How many times the durability mark was written and synced since opening: once per
    /// group-commit batch (whatever the number of segments it touched), and once for a
    /// `truncateSuffix` that removes entries or a snapshot past the end.
    public var markerSyncCount: UInt64 { store.markerSyncCount }

    /// The term of entry `index`: the snapshot's at `snapshotIndex` (0 at 0), nil for
    /// compacted entries and entries past the end.
    public func term(at index: UInt64) -> UInt64? {
        store.term(at: index)
    }

    // MARK: Reading

    /// Durable entries from `index` on: at most `maxCount`, and at most `maxBytes` of
    /// records on disk (24 bytes plus payload each) though always at least one.
    /// Empty when `index` is past the end.
    ///
    /// - Throws: `LogError.compacted` when `index` is not after the snapshot.
    public func entries(from index: UInt64, maxCount: Int = .max, maxBytes: Int = .max) throws -> [LogEntry] {
        try store.entries(from: index, maxCount: maxCount, maxBytes: maxBytes)
    }

    /// Calls `body` with each entry from `index` through the last, reading a few MiB at a
    /// time: the replay after `loadSnapshot()`.
    public func forEachEntry(from index: UInt64, _ body: (LogEntry) throws -> Void) throws {
        var next = index
        while true {
            let chunk = try store.entries(from: next, maxCount: .max, maxBytes: 4 << 20)
            guard let last = chunk.last else { return }
            try chunk.forEach(body)
            next = last.index + 1
        }
    }

    /// The newest snapshot, read and checked from disk, or nil without one.
    public func loadSnapshot() throws -> LogSnapshot? {
        while true {
            let point = store.snapshotPoint
            guard point.index > 0 else { return nil }
            do {
                return try store.snapshots.load(index: point.index, term: point.term)
            } catch let LogError.io(_, _, code) where code == ENOENT && store.snapshotPoint != point {
                continue  // a newer snapshot replaced it while we opened it
            }
        }
    }

    // MARK: Writing

    /// Appends entries that continue the log (the first is `lastIndex + 1` once earlier
    /// appends are done) and returns the last index once they are durable.
    ///
    /// Cancelling the task does not withdraw an append: its bytes may already be on disk.
    nonisolated(nonsending) public func append(_ entries: [LogEntry]) async throws -> UInt64 {
        try checkPayloads(entries.lazy.map(\.payload.count))
        return try await withCheckedThrowingContinuation { done in
            submit(.append(entries: entries, done: done), else: done)
        }
    }

    /// Appends `payloads` as entries of `term` at the next indices and returns the last index
    /// once they are durable. One call's entries are consecutive; concurrent calls follow one
    /// another in arrival order. This is the single coordinator's way to share syncs.
    ///
    /// `nonisolated(nonsending)`: the entries are queued on the caller's executor before it
    /// suspends, so an actor that numbers its proposals gets them written in that order.
    nonisolated(nonsending) public func append(term: UInt64, payloads: [[UInt8]]) async throws -> UInt64 {
        try checkPayloads(payloads.lazy.map(\.count))
        return try await withCheckedThrowingContinuation { done in
            submit(.appendPayloads(term: term, payloads: payloads, done: done), else: done)
        }
    }

    /// Removes every entry after `index` (Raft drops a conflicting, uncommitted suffix);
    /// nothing when `index` is at or past the end.
    ///
    /// - Throws: `LogError.truncateBelowSnapshot` when `index` is before the snapshot.
    public func truncateSuffix(after index: UInt64) async throws {
        try await withCheckedThrowingContinuation { done in
            submit(.truncateSuffix(after: index, done: done), else: done)
        }
    }

    /// Saves the state machine's state as of entry `index` (of `term`), then removes the
    /// segments it covers: restart replays only what follows, and the disk stays bounded.
    /// Entries after `index` stay. A snapshot past the end (one installed from a leader)
    /// replaces the whole log and the next append is `index + 1`.
    ///
    /// The file is written before the writer thread is involved, so appends continue meanwhile.
    ///
    /// - Throws: `LogError.staleSnapshot` for an index before the current snapshot;
    ///   `LogError.snapshotTermMismatch` when the log holds `index` with another term
    ///   (truncate that suffix first).
    public func saveSnapshot(index: UInt64, term: UInt64, data: [UInt8]) async throws {
        let snapshot = LogSnapshot(index: index, term: term, data: data)
        let snapshots = store.snapshots
        let temporary = try await Self.onOwnThread { try snapshots.writeTemporary(snapshot) }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            guard committer.submit(.installSnapshot(temporary: temporary, index: index, term: term, done: done)) else {
                try? DiskFile.remove(temporary)
                return done.resume(throwing: LogError.closed)
            }
        }
    }

    /// Finishes queued work, closes the files and releases the directory.
    public func close() async {
        await withCheckedContinuation { done in
            if !committer.submit(.close(done: done)) { done.resume() }
        }
    }

    // MARK: Private

    private func submit<T>(_ operation: LogOperation, else done: CheckedContinuation<T, any Error>) {
        if !committer.submit(operation) { done.resume(throwing: LogError.closed) }
    }

    private func checkPayloads(_ sizes: some Sequence<Int>) throws {
        let limit = min(configuration.maxPayloadSize, LogRecord.maxPayloadSize)
        if let size = sizes.first(where: { $0 > limit }) {
            throw LogError.payloadTooLarge(size: size, limit: limit)
        }
    }

    /// Runs blocking file work on a thread of its own, off the cooperative pool.
    private static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in
            Thread { done.resume(with: Result { try work() }) }.start()
        }
    }
}
