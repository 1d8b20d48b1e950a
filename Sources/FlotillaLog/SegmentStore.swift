import Foundation

/// The segment files of one log directory and what is known of them in memory.
///
/// Only the writer thread (`GroupCommitter`) changes segments: it writes and syncs past
/// the published end without the lock, then publishes under it. Readers on any thread
/// hold the lock while they read, and only ever read published, hence durable, records.
/// The writer also keeps the durability mark (`DurabilityMarker`) at the last durable entry.
final class SegmentStore: @unchecked Sendable {
    let directory: String
    let segmentSize: Int
    let snapshots: SnapshotStore
    private let marker: DurabilityMarker

    private let lock = NSLock()
    // Guarded by `lock`.
    private var segments: [Segment]
    private var snapshotIndex: UInt64
    private var snapshotTerm: UInt64
    private var syncs: UInt64 = 0
    private var markerSyncs: UInt64 = 0
    /// What the marker file says; kept at the last durable entry.
    private var mark: DurableMark
    private var failure: LogError?
    private var directoryLock: DirectoryLock?

    init(
        directory: String, segmentSize: Int, snapshots: SnapshotStore,
        snapshotIndex: UInt64, snapshotTerm: UInt64, segments: [Segment],
        marker: DurabilityMarker, mark: DurableMark, directoryLock: DirectoryLock
    ) {
        self.directory = directory
        self.marker = marker
        self.mark = mark
        self.segmentSize = segmentSize
        self.snapshots = snapshots
        self.snapshotIndex = snapshotIndex
        self.snapshotTerm = snapshotTerm
        self.segments = segments
        self.directoryLock = directoryLock
    }

    // MARK: Reading, from any thread

    var snapshotPoint: (index: UInt64, term: UInt64) {
        locked { (snapshotIndex, snapshotTerm) }
    }

    var lastIndex: UInt64 { locked { lastIndexLocked } }
    var nextIndex: UInt64 { lastIndex + 1 }
    var lastTerm: UInt64 { locked { termLocked(at: lastIndexLocked) ?? snapshotTerm } }
    var syncCount: UInt64 { locked { syncs } }
    var markerSyncCount: UInt64 { locked { markerSyncs } }

    func term(at index: UInt64) -> UInt64? {
        locked { termLocked(at: index) }
    }

    /// Entries from `index` on, at most `maxCount` of them and, past the first, at most
    /// `maxBytes` of records on disk. Each record's checksum is checked again.
    func entries(from index: UInt64, maxCount: Int, maxBytes: Int) throws -> [LogEntry] {
        try locked {
            guard directoryLock != nil else { throw LogError.closed }
            guard index > snapshotIndex else { throw LogError.compacted(index: index, firstIndex: snapshotIndex + 1) }
            var result: [LogEntry] = []
            var next = index
            var bytes = 0
            let last = lastIndexLocked
            reading: while next <= last, result.count < maxCount {
                guard let position = segmentPosition(containing: next) else { break }
                let segment = segments[position]
                let first = Int(next - segment.firstIndex)
                var end = first
                var runBytes = 0
                var full = false
                while end < segment.count, result.count + (end - first) < maxCount {
                    let size = segment.recordSize(at: end)
                    if result.count + (end - first) > 0, bytes + runBytes + size > maxBytes {
                        full = true
                        break
                    }
                    runBytes += size
                    end += 1
                }
                try result.append(contentsOf: read(segment, records: first..<end, bytes: runBytes))
                next += UInt64(end - first)
                bytes += runBytes
                if full { break reading }
            }
            return result
        }
    }

    // MARK: Writing, from the writer thread only

    /// Writes entries that continue the log and syncs them: one fdatasync per segment
    /// touched. A segment is synced before the next one is started, so every segment but
    /// the last is whole on disk and damage in one is never a torn write. Then the mark is
    /// moved to the last entry and synced, before the caller acknowledges anything.
    ///
    /// Records are published per segment, before the mark: readers only see synced records,
    /// and a crash before the mark keeps them (opening raises the mark over them).
    func append(_ entries: [LogEntry]) throws {
        try checkUsable()
        var rest = entries[...]
        while let first = rest.first {
            let active = try activeSegment(startingAt: first.index)
            precondition(active.endIndex == first.index, "appends are checked to continue the log")
            var buffer: [UInt8] = []
            var offsets: [Int] = []
            var terms: [UInt64] = []
            var end = active.size
            while let entry = rest.first {
                let size = LogRecord.size(payloadCount: entry.payload.count)
                guard end == 0 || end + size <= segmentSize else { break }
                offsets.append(end)
                terms.append(entry.term)
                LogRecord.encode(index: entry.index, term: entry.term, payload: entry.payload, into: &buffer)
                end += size
                rest.removeFirst()
            }
            if !buffer.isEmpty {
                try failing {
                    try active.file.write(buffer, at: active.size)
                    try active.file.syncData()
                }
                locked {
                    syncs += 1
                    segments[segments.count - 1].recordOffsets += offsets
                    segments[segments.count - 1].terms += terms
                    segments[segments.count - 1].size = end
                }
            }
            if let next = rest.first {
                try startSegment(firstIndex: next.index)
            }
        }
        if let last = entries.last {
            try record(DurableMark(index: last.index, term: last.term))
        }
    }

    /// Removes the entries after `index`: whole segments newest first, each removal synced
    /// so a crash never leaves a gap, then the segment holding `index` is cut after it.
    func truncateSuffix(after index: UInt64) throws {
        try checkUsable()
        let lowered = try locked { () throws -> DurableMark? in
            guard index >= snapshotIndex else {
                throw LogError.truncateBelowSnapshot(index: index, snapshotIndex: snapshotIndex)
            }
            guard index < lastIndexLocked, let term = termLocked(at: index) else { return nil }
            return DurableMark(index: index, term: term)
        }
        guard let lowered else { return }
        // The mark comes down first: a crash part way then leaves a log at least as long as its mark.
        try record(lowered)
        let (removed, cut) = locked { () -> ([Segment], (DiskFile, Int)?) in
            let keep = segments.firstIndex { $0.firstIndex > index } ?? segments.count
            let removed = Array(segments[keep...])
            segments.removeSubrange(keep...)
            guard let last = segments.indices.last, segments[last].endIndex > index + 1 else { return (removed, nil) }
            let size = segments[last].removeRecords(from: Int(index + 1 - segments[last].firstIndex))
            return (removed, (segments[last].file, size))
        }
        try failing {
            for segment in removed.reversed() {
                try DiskFile.remove(segment.file.path)
                try DiskFile.syncDirectory(directory)
            }
            if let (file, size) = cut { try file.truncate(to: size) }
        }
    }

    /// Puts a synced temporary snapshot in place and removes the segments it covers.
    /// Entries after the snapshot stay; a snapshot past the last entry replaces them all.
    func installSnapshot(temporary: String, index: UInt64, term: UInt64) throws {
        do {
            try checkUsable()
            try locked {
                guard index > 0, index >= snapshotIndex else {
                    throw LogError.staleSnapshot(index: index, snapshotIndex: snapshotIndex)
                }
                if let logTerm = termLocked(at: index), logTerm != term {
                    throw LogError.snapshotTermMismatch(index: index, snapshotTerm: term, logTerm: logTerm)
                }
            }
        } catch {
            try? DiskFile.remove(temporary)
            throw error
        }
        try failing { try snapshots.install(temporary: temporary, index: index, term: term) }
        let covered = locked { () -> [Segment] in
            snapshotIndex = index
            snapshotTerm = term
            let keep = segments.firstIndex { $0.endIndex > index + 1 } ?? segments.count
            defer { segments.removeSubrange(..<keep) }
            return Array(segments[..<keep])
        }
        // Oldest first: a crash part way leaves the newer segments, which the snapshot precedes.
        try failing {
            for segment in covered { try DiskFile.remove(segment.file.path) }
            if !covered.isEmpty { try DiskFile.syncDirectory(directory) }
        }
        // A snapshot past the end (installed from a leader) is now the last durable entry.
        // After the rename: a mark above what is on disk would refuse the next open.
        if index > locked({ mark.index }) {
            try record(DurableMark(index: index, term: term))
        }
    }

    /// Closes every file and releases the directory.
    func close() {
        locked {
            segments = []
            directoryLock = nil
        }
    }

    // MARK: Private

    /// The segment appends go to: its file, size and next index. Not the `Segment` itself,
    /// whose arrays would then be copied when the append publishes into them.
    private func activeSegment(startingAt index: UInt64) throws -> (file: DiskFile, size: Int, endIndex: UInt64) {
        if let active = locked({ segments.last.map { ($0.file, $0.size, $0.endIndex) } }) { return active }
        try startSegment(firstIndex: index)
        return try activeSegment(startingAt: index)
    }

    private func startSegment(firstIndex: UInt64) throws {
        let path = directory + "/" + Segment.fileName(firstIndex: firstIndex)
        try failing {
            let segment = Segment(firstIndex: firstIndex, file: try DiskFile(path: path, create: true, exclusive: true))
            // The new name must be durable before any record in it is acknowledged.
            try DiskFile.syncDirectory(directory)
            locked { segments.append(segment) }
        }
    }

    /// Writes and syncs a new mark; the log is unusable if that fails, as after a failed segment sync.
    private func record(_ newMark: DurableMark) throws {
        try failing { try marker.record(newMark) }
        locked {
            markerSyncs += 1
            mark = newMark
        }
    }

    private func checkUsable() throws {
        try locked {
            if directoryLock == nil { throw LogError.closed }
            if let failure { throw failure }
        }
    }

    /// After a failed write or sync the kernel may have dropped the dirty pages and a retried
    /// sync can report success over lost data, so no later write is trusted until a reopen
    /// replays what is really on disk.
    private func failing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            locked { failure = failure ?? .unusable(reason: "\(error)") }
            throw error
        }
    }

    private func read(_ segment: Segment, records: Range<Int>, bytes count: Int) throws -> [LogEntry] {
        guard !records.isEmpty else { return [] }
        let start = segment.recordOffsets[records.lowerBound]
        let bytes = try segment.file.read(count: count, at: start)
        return try bytes.withUnsafeBytes { buffer in
            var offset = 0
            return try records.map { position in
                let expected = segment.firstIndex + UInt64(position)
                guard case .record(let index, let term, let payload, let end) = LogRecord.decode(buffer, at: offset),
                    index == expected
                else {
                    throw LogError.corruptSegment(
                        path: segment.file.path, offset: start + offset,
                        reason: "record for entry \(expected) no longer reads back whole")
                }
                offset = end
                return LogEntry(index: index, term: term, payload: Array(buffer[payload]))
            }
        }
    }

    private var lastIndexLocked: UInt64 {
        max(snapshotIndex, (segments.last?.endIndex ?? 1) - 1)
    }

    private func termLocked(at index: UInt64) -> UInt64? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, let position = segmentPosition(containing: index) else { return nil }
        return segments[position].terms[Int(index - segments[position].firstIndex)]
    }

    /// The segment holding entry `index`, by binary search over first indices.
    private func segmentPosition(containing index: UInt64) -> Int? {
        var low = 0
        var high = segments.count
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].firstIndex <= index { low = middle + 1 } else { high = middle }
        }
        guard low > 0, index < segments[low - 1].endIndex else { return nil }
        return low - 1
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
