/// Snapshot files, `snapshot-<index>-<term>.snap` (both 20 digits), each holding a single
/// `LogRecord` whose payload is the state machine's state.
///
/// A snapshot is written under a temporary name, synced, renamed into place and the
/// directory synced, so a crash leaves the old snapshot or the new one, never part of one.
/// Only the newest snapshot counts; older ones are removed once a newer one is in place.
struct SnapshotStore: Sendable {
    let directory: String

    static func fileName(index: UInt64, term: UInt64) -> String {
        "snapshot-\(index.twentyDigits)-\(term.twentyDigits).snap"
    }

    static func parse(fileName name: String) -> (index: UInt64, term: UInt64)? {
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[0] == "snapshot", parts[2].hasSuffix(".snap") else { return nil }
        guard let index = UInt64(twentyDigits: parts[1]),
            let term = UInt64(twentyDigits: parts[2].dropLast(".snap".count))
        else { return nil }
        return (index, term)
    }

    func path(index: UInt64, term: UInt64) -> String {
        directory + "/" + Self.fileName(index: index, term: term)
    }

    /// Writes `snapshot` under a temporary name and syncs it; `install` puts it in place.
    func writeTemporary(_ snapshot: LogSnapshot) throws -> String {
        guard snapshot.data.count <= LogRecord.maxPayloadSize else {
            throw LogError.payloadTooLarge(size: snapshot.data.count, limit: LogRecord.maxPayloadSize)
        }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = path(index: snapshot.index, term: snapshot.term) + ".\(suffix).tmp"
        let file = try DiskFile(path: temporary, create: true, exclusive: true)
        var bytes: [UInt8] = []
        LogRecord.encode(index: snapshot.index, term: snapshot.term, payload: snapshot.data, into: &bytes)
        do {
            try file.write(bytes, at: 0)
            try file.sync()
        } catch {
            try? DiskFile.remove(temporary)
            throw error
        }
        return temporary
    }

    /// Renames a synced temporary snapshot into place, then removes older snapshots.
    func install(temporary: String, index: UInt64, term: UInt64) throws {
        try DiskFile.move(temporary, to: path(index: index, term: term))
        try DiskFile.syncDirectory(directory)
        // Unsynced removals are fine: a resurrected older snapshot loses to the newest.
        for name in try snapshotFileNames() where name != Self.fileName(index: index, term: term) {
            try DiskFile.remove(directory + "/" + name)
        }
    }

    /// The newest snapshot's index and term, after checking that it reads back whole; nil
    /// without one. Changes nothing, so that an open that then refuses leaves the disk as it was.
    func newest() throws -> (index: UInt64, term: UInt64)? {
        let snapshots = try DiskFile.list(directory).compactMap(Self.parse(fileName:))
        guard let newest = snapshots.max(by: { ($0.index, $0.term) < ($1.index, $1.term) }) else { return nil }
        _ = try load(index: newest.index, term: newest.term)
        return newest
    }

    /// Once the open goes ahead: removes temporaries left by a crash and the snapshots older
    /// than `newest`.
    func removeLeftovers(keeping newest: (index: UInt64, term: UInt64)?) throws {
        for name in try DiskFile.list(directory) where name.hasPrefix("snapshot-") && name.hasSuffix(".tmp") {
            try DiskFile.remove(directory + "/" + name)
        }
        for older in try DiskFile.list(directory).compactMap(Self.parse(fileName:))
        where older.index != newest?.index || older.term != newest?.term {
            try DiskFile.remove(path(index: older.index, term: older.term))
        }
    }

    /// Reads and checks the snapshot file for `index` and `term`.
    func load(index: UInt64, term: UInt64) throws -> LogSnapshot {
        let path = path(index: index, term: term)
        let bytes = try DiskFile(path: path).readAll()
        return try bytes.withUnsafeBytes { buffer in
            switch LogRecord.decode(buffer, at: 0) {
            case .record(let recordIndex, let recordTerm, let payload, let end):
                guard end == buffer.count else {
                    throw LogError.corruptSnapshot(path: path, reason: "\(buffer.count - end) bytes after the record")
                }
                guard recordIndex == index, recordTerm == term else {
                    throw LogError.corruptSnapshot(
                        path: path, reason: "holds index \(recordIndex) term \(recordTerm), not what its name says")
                }
                return LogSnapshot(index: index, term: term, data: Array(buffer[payload]))
            case .incomplete:
                throw LogError.corruptSnapshot(
                    path: path, reason: "file ends inside the record (\(buffer.count) bytes)")
            case .invalid(let reason):
                throw LogError.corruptSnapshot(path: path, reason: reason)
            }
        }
    }

    private func snapshotFileNames() throws -> [String] {
        try DiskFile.list(directory).filter { Self.parse(fileName: $0) != nil }
    }
}
