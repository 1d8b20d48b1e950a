/// The first thing wrong in a log's segments, in index order, and where it starts.
struct SegmentDamage {
    enum Kind {
        /// Bytes inside a segment that do not continue its records.
        case scan(SegmentScan.Damage)
        /// A segment starts after the entry the one before it, or the snapshot, needs next.
        case gap(from: UInt64, through: UInt64)
        /// A segment starts before the one before it ends.
        case overlap(firstIndex: UInt64, previousEnd: UInt64)
    }

    var kind: Kind
    /// The damaged segment file.
    var path: String
    /// Where the damage starts in it (0 for a gap or an overlap: the whole file is past it).
    var offset: Int
    /// The file's size: the bytes from `offset` on are what cutting at the damage removes.
    var size: Int
    var isInLastSegment: Bool

    /// What a crash leaves: damage at the end of the last segment with nothing whole after
    /// it, or only what looks like the rest of the same unsynced write. Opening cuts it off
    /// when no entry in it is under the durability mark.
    var isTornTail: Bool {
        guard isInLastSegment, case .scan(let damage) = kind else { return false }
        switch damage {
        case .tail, .tornWrite: return true
        case .middle, .misplaced: return false
        }
    }

    /// Why opening refuses damage that is not a torn tail, whatever the durability mark says:
    /// such damage is never what a crash leaves.
    func error(directory: String) -> LogError {
        switch kind {
        case .gap(let from, let through):
            return .missingEntries(directory: directory, from: from, through: through)
        case .overlap(let firstIndex, let previousEnd):
            return .corruptSegment(
                path: path, offset: 0,
                reason: "starts at entry \(firstIndex) but the previous segment ends at \(previousEnd)")
        case .scan(.misplaced(let index, let expected)):
            return .corruptSegment(
                path: path, offset: offset, reason: "record holds entry \(index) where \(expected) belongs")
        case .scan(.middle(let cause, let next)):
            return .corruptSegment(
                path: path, offset: offset, reason: "\(cause), and a whole record follows at offset \(next)")
        case .scan(.tail), .scan(.tornWrite):
            return .corruptSegment(
                path: path, offset: offset, reason: "\(tornTailReason), in a segment that is not the last")
        }
    }

    /// The reason the torn-tail warning gives.
    var tornTailReason: String {
        switch kind {
        case .scan(.tornWrite(let cause, let sector, _)):
            return "\(cause); the records after it belong to the same unsynced write "
                + "(zero-filled sector at offset \(sector))"
        case .scan(.tail(let cause)):
            return cause
        default:
            return summary
        }
    }

    /// The damage and where, in words, claiming nothing about how it came about.
    var summary: String {
        switch kind {
        case .gap(let from, let through):
            return "no segment holds entries \(from) through \(through); \(path) follows the gap"
        case .overlap(let firstIndex, let previousEnd):
            return "segment \(path) starts at entry \(firstIndex) but the previous segment ends at \(previousEnd)"
        case .scan(let damage):
            let what =
                switch damage {
                case .tail(let cause): cause
                case .tornWrite(let cause, let sector, let next):
                    "\(cause), zeros from offset \(sector), whole records again from offset \(next)"
                case .middle(let cause, let next): "\(cause), whole records again from offset \(next)"
                case .misplaced(let index, let expected): "record holds entry \(index) where \(expected) belongs"
                }
            return "segment \(path) is damaged at offset \(offset): \(what)"
        }
    }
}
