import Logging

/// Opening a log directory's segments after a clean shutdown or a crash.
enum SegmentRecovery {
    /// Reads every segment that holds entries after `snapshotIndex` and checks that they
    /// continue the snapshot without gaps. Damage at the end of the last segment is what a
    /// crash leaves: it is cut off, synced, and reported at warning level. Damage anywhere
    /// else may hide acknowledged entries, so it stops the open with an error.
    static func recover(directory: String, snapshotIndex: UInt64, logger: Logger) throws -> [Segment] {
        var found = try DiskFile.list(directory)
            .compactMap { name in Segment.firstIndex(fileName: name).map { (firstIndex: $0, name: name) } }
            .sorted { $0.firstIndex < $1.firstIndex }
        // A segment followed by one starting at or before snapshotIndex + 1 is wholly in the
        // snapshot: a compaction that crashed before removing it. It is not even read.
        var obsolete: [String] = []
        while found.count >= 2, found[1].firstIndex <= snapshotIndex + 1 {
            obsolete.append(found.removeFirst().name)
        }

        var segments: [Segment] = []
        for (position, (firstIndex, name)) in found.enumerated() {
            let file = try DiskFile(path: directory + "/" + name)
            let bytes = try file.readAll()
            let scan = bytes.withUnsafeBytes { SegmentScan($0, firstIndex: firstIndex) }
            if let damage = scan.damage {
                try repair(
                    damage, of: file, at: scan.end, size: bytes.count, isLast: position == found.count - 1,
                    logger: logger)
            }
            let segment = Segment(
                firstIndex: firstIndex, file: file, recordOffsets: scan.recordOffsets, terms: scan.terms, size: scan.end
            )
            // An empty segment (started just before a crash) holds nothing to keep.
            // The last one wholly in the snapshot is what a compaction that crashed left.
            if segment.count == 0 || segment.endIndex <= snapshotIndex + 1 {
                obsolete.append(name)
            } else {
                segments.append(segment)
            }
        }

        try checkContinuity(segments, directory: directory, snapshotIndex: snapshotIndex)
        for name in obsolete {
            try DiskFile.remove(directory + "/" + name)
        }
        if !obsolete.isEmpty { try DiskFile.syncDirectory(directory) }
        return segments
    }

    private static func repair(
        _ damage: SegmentScan.Damage, of file: DiskFile, at offset: Int, size: Int, isLast: Bool, logger: Logger
    ) throws {
        let reason: String
        switch damage {
        case .misplaced(let index, let expected):
            throw LogError.corruptSegment(
                path: file.path, offset: offset, reason: "record holds entry \(index) where \(expected) belongs")
        case .middle(let cause, let next):
            throw LogError.corruptSegment(
                path: file.path, offset: offset, reason: "\(cause), and a whole record follows at offset \(next)")
        case .tail(let cause):
            reason = cause
        case .tornWrite(let cause, let sector):
            reason = "\(cause); the records after it belong to the same unsynced write "
                + "(zero-filled sector at offset \(sector))"
        }
        guard isLast else {
            throw LogError.corruptSegment(
                path: file.path, offset: offset, reason: "\(reason), in a segment that is not the last")
        }
        let count = size - offset
        try file.truncate(to: offset)
        logger.warning(
            "truncated \(count) bytes of torn/corrupt tail at segment \(file.path) offset \(offset): \(reason)",
            metadata: [
                "flotilla.log.segment": "\(file.path)",
                "flotilla.log.offset": "\(offset)",
                "flotilla.log.bytes": "\(count)",
            ]
        )
    }

    private static func checkContinuity(_ segments: [Segment], directory: String, snapshotIndex: UInt64) throws {
        var expected = snapshotIndex + 1
        for (position, segment) in segments.enumerated() {
            if segment.firstIndex > expected {
                throw LogError.missingEntries(directory: directory, from: expected, through: segment.firstIndex - 1)
            }
            if position > 0, segment.firstIndex < expected {
                throw LogError.corruptSegment(
                    path: segment.file.path, offset: 0,
                    reason: "starts at entry \(segment.firstIndex) but the previous segment ends at \(expected - 1)")
            }
            expected = segment.endIndex
        }
    }
}
