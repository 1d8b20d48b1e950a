/// What reading one segment file from the start found: its run of whole records and,
/// when bytes follow that run, what kind of damage they are.
struct SegmentScan {
    var recordOffsets: [Int] = []
    var terms: [UInt64] = []
    /// End of the last whole record; damage, if any, starts here.
    var end = 0
    var damage: Damage?
    /// Whole records found after the damage, back to back from the first of them: what a
    /// repair that cuts at the damage removes, counted for its report.
    var recordsAfterDamage = 0
    /// The highest index among them; 0 when there are none.
    var highestIndexAfterDamage: UInt64 = 0

    var count: Int { terms.count }

    enum Damage: Equatable {
        /// Nothing recognisable follows: a write cut short by a crash, or garbage at the end.
        case tail(reason: String)
        /// Whole records follow, but the damage spans a zero-filled sector: a crash kept later
        /// pages of an unsynced write and lost earlier ones (unwritten blocks read as zeros).
        /// Nothing from that write was acknowledged, records after the hole included, unless
        /// the durability marker says otherwise (zeros written over synced records look the same).
        case tornWrite(reason: String, zeroSector: Int, nextRecord: Int)
        /// Whole records follow: acknowledged entries may lie beyond the damage.
        case middle(reason: String, nextRecord: Int)
        /// A whole record whose index is out of sequence: a misplaced file or a bug, not a crash.
        case misplaced(index: UInt64, expected: UInt64)
    }

    static let sectorSize = 512

    init(_ bytes: UnsafeRawBufferPointer, firstIndex: UInt64) {
        var offset = 0
        scanning: while offset < bytes.count {
            let expected = firstIndex + UInt64(terms.count)
            switch LogRecord.decode(bytes, at: offset) {
            case .record(let index, let term, _, let end):
                guard index == expected else {
                    damage = .misplaced(index: index, expected: expected)
                    break scanning
                }
                recordOffsets.append(offset)
                terms.append(term)
                offset = end
            case .incomplete:
                let reason = "\(bytes.count - offset) bytes at the end do not make a whole record"
                damage = Self.classify(bytes, from: offset, expected: expected, reason: reason)
                break scanning
            case .invalid(let reason):
                damage = Self.classify(bytes, from: offset, expected: expected, reason: reason)
                break scanning
            }
        }
        end = offset
        switch damage {
        case .middle(_, let next), .tornWrite(_, _, let next):
            countRecords(bytes, from: next)
        case .misplaced:
            countRecords(bytes, from: offset)
        case .tail, nil:
            break
        }
    }

    /// Counts the whole records back to back from `offset`, whatever their indices.
    private mutating func countRecords(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        var offset = start
        while case .record(let index, _, _, let next) = LogRecord.decode(bytes, at: offset) {
            recordsAfterDamage += 1
            highestIndexAfterDamage = max(highestIndexAfterDamage, index)
            offset = next
        }
    }

    /// Tells a damaged tail from damage with whole records after it.
    private static func classify(
        _ bytes: UnsafeRawBufferPointer, from start: Int, expected: UInt64, reason: String
    ) -> Damage {
        guard let next = nextRecord(in: bytes, after: start, expected: expected) else {
            return .tail(reason: reason)
        }
        if let sector = zeroSector(in: bytes, from: start, to: next) {
            return .tornWrite(reason: reason, zeroSector: sector, nextRecord: next)
        }
        return .middle(reason: reason, nextRecord: next)
    }

    /// The first offset after `start` where a whole record of a later entry begins.
    /// Cheap field checks reject almost every offset before a checksum is computed.
    private static func nextRecord(in bytes: UnsafeRawBufferPointer, after start: Int, expected: UInt64) -> Int? {
        // Records are at least `overhead` bytes, which bounds how far the index can have advanced.
        let highestIndex = expected + UInt64((bytes.count - start) / LogRecord.overhead)
        var offset = start + 1
        while offset + LogRecord.overhead <= bytes.count {
            defer { offset += 1 }
            let length = Int(LogRecord.readUInt32(bytes, at: offset))
            guard length >= 16, offset + LogRecord.headerSize + length <= bytes.count else { continue }
            let index = LogRecord.readUInt64(bytes, at: offset + 8)
            guard index >= expected, index <= highestIndex else { continue }
            if case .record = LogRecord.decode(bytes, at: offset) { return offset }
        }
        return nil
    }

    /// The first sector-aligned, all-zero sector within `start..<end`.
    private static func zeroSector(in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        var sector = (start + sectorSize - 1) / sectorSize * sectorSize
        while sector + sectorSize <= end {
            if bytes[sector..<(sector + sectorSize)].allSatisfy({ $0 == 0 }) { return sector }
            sector += sectorSize
        }
        return nil
    }
}
