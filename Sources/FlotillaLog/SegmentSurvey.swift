/// What a log directory's segments hold, read from the start without changing a byte: the
/// whole records that continue the snapshot without a gap (the prefix the log can keep),
/// the first damage after them, and what lies beyond that damage. Opening keeps the prefix
/// when the damage is a torn tail past the durability mark (`LogRecovery`); a repair keeps
/// it whatever the damage (`LogRepair`).
struct SegmentSurvey {
    let directory: String
    let snapshotIndex: UInt64
    /// The segments of the prefix in index order; the damaged one, if in it, ends at the damage.
    private(set) var segments: [Segment] = []
    /// Segment files the prefix does not need and opening removes: wholly in the snapshot
    /// (a compaction that crashed before removing them), or empty (started just before a crash).
    private(set) var obsolete: [String] = []
    /// The first damage in index order.
    private(set) var damage: SegmentDamage?
    /// Segment files wholly past the damage, in index order: a repair removes them.
    private(set) var filesBeyond: [(path: String, size: Int)] = []
    /// Whole records past the damage, in its segment and the later ones, and their highest index.
    private(set) var recordsBeyond = 0
    private(set) var highestIndexBeyond: UInt64 = 0
    /// How many segment files the directory held: none in a new log.
    private(set) var fileCount = 0

    init(directory: String, snapshotIndex: UInt64) throws {
        self.directory = directory
        self.snapshotIndex = snapshotIndex
        var found = try DiskFile.list(directory)
            .compactMap { name in Segment.firstIndex(fileName: name).map { (firstIndex: $0, name: name) } }
            .sorted { $0.firstIndex < $1.firstIndex }
        fileCount = found.count
        // A segment followed by one starting at or before snapshotIndex + 1 is wholly in the
        // snapshot: a compaction that crashed before removing it. It is not even read.
        while found.count >= 2, found[1].firstIndex <= snapshotIndex + 1 {
            obsolete.append(found.removeFirst().name)
        }
        var expected = snapshotIndex + 1
        for (position, (firstIndex, name)) in found.enumerated() {
            let path = directory + "/" + name
            let file = try DiskFile(path: path)
            let bytes = try file.readAll()
            let scan = bytes.withUnsafeBytes { SegmentScan($0, firstIndex: firstIndex) }
            guard damage == nil else {
                filesBeyond.append((path, bytes.count))
                countBeyond(scan, firstIndex: firstIndex, includingRun: true)
                continue
            }
            if scan.count == 0, scan.damage == nil {
                obsolete.append(name)
                continue
            }
            let isLast = position == found.count - 1
            let misfit: SegmentDamage.Kind? =
                if scan.count == 0, case .misplaced = scan.damage {
                    nil  // a file under another segment's name: said as such, not as a gap
                } else if firstIndex > expected {
                    .gap(from: expected, through: firstIndex - 1)
                } else if !segments.isEmpty, firstIndex < expected {
                    .overlap(firstIndex: firstIndex, previousEnd: expected - 1)
                } else {
                    nil
                }
            if let misfit {
                damage = SegmentDamage(kind: misfit, path: path, offset: 0, size: bytes.count, isInLastSegment: isLast)
                filesBeyond.append((path, bytes.count))
                countBeyond(scan, firstIndex: firstIndex, includingRun: true)
                continue
            }
            if let scanned = scan.damage {
                damage = SegmentDamage(
                    kind: .scan(scanned), path: path, offset: scan.end, size: bytes.count, isInLastSegment: isLast)
                countBeyond(scan, firstIndex: firstIndex, includingRun: false)
            }
            let segment = Segment(
                firstIndex: firstIndex, file: file, recordOffsets: scan.recordOffsets, terms: scan.terms, size: scan.end
            )
            // The last one wholly in the snapshot is what a compaction that crashed left.
            if segment.count == 0 || segment.endIndex <= snapshotIndex + 1 {
                obsolete.append(name)
            } else {
                segments.append(segment)
                expected = segment.endIndex
            }
        }
    }

    /// The last entry the prefix reaches: the snapshot's when no segment continues it.
    var lastIndex: UInt64 {
        max(snapshotIndex, (segments.last?.endIndex ?? 1) - 1)
    }

    /// The term of entry `index` in the prefix, `snapshotTerm` at the snapshot's index,
    /// nil before the snapshot or past the prefix.
    func term(at index: UInt64, snapshotTerm: UInt64) -> UInt64? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex,
            let segment = segments.last(where: { $0.firstIndex <= index }), index < segment.endIndex
        else { return nil }
        return segment.terms[Int(index - segment.firstIndex)]
    }

    /// Where the prefix ends, in words: the reason a log shorter than its mark gives when no damage explains it.
    var endDescription: String {
        guard let last = segments.last else { return "no segment file holds entries after \(lastIndex)" }
        return "the last segment, \(last.file.path), ends at entry \(lastIndex); a later segment file is gone"
    }

    private mutating func countBeyond(_ scan: SegmentScan, firstIndex: UInt64, includingRun: Bool) {
        if includingRun, scan.count > 0 {
            recordsBeyond += scan.count
            highestIndexBeyond = max(highestIndexBeyond, firstIndex + UInt64(scan.count) - 1)
        }
        recordsBeyond += scan.recordsAfterDamage
        highestIndexBeyond = max(highestIndexBeyond, scan.highestIndexAfterDamage)
    }
}
