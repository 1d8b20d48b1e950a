/// One segment file, `log-<first index, 20 digits>.seg`: the records of consecutive entries
/// from `firstIndex`, back to back, nothing else. Where each durable record starts and its
/// term are kept in memory, so reads and term lookups never scan the file.
struct Segment {
    let firstIndex: UInt64
    let file: DiskFile
    /// Where each record starts, in index order.
    var recordOffsets: [Int] = []
    var terms: [UInt64] = []
    /// End of the last durable record: where the next record goes.
    var size = 0

    var count: Int { terms.count }
    /// One past the last entry's index.
    var endIndex: UInt64 { firstIndex + UInt64(terms.count) }

    /// Bytes on disk of the record at `position` (0 for `firstIndex`).
    func recordSize(at position: Int) -> Int {
        let end = position + 1 < recordOffsets.count ? recordOffsets[position + 1] : size
        return end - recordOffsets[position]
    }

    /// Forgets the records from `position` on; returns the new size, for the file's truncation.
    mutating func removeRecords(from position: Int) -> Int {
        if position < recordOffsets.count { size = recordOffsets[position] }
        recordOffsets.removeSubrange(position...)
        terms.removeSubrange(position...)
        return size
    }

    static func fileName(firstIndex: UInt64) -> String {
        "log-\(firstIndex.twentyDigits).seg"
    }

    static func firstIndex(fileName name: String) -> UInt64? {
        guard name.hasPrefix("log-"), name.hasSuffix(".seg") else { return nil }
        return UInt64(twentyDigits: name.dropFirst("log-".count).dropLast(".seg".count))
    }
}

extension UInt64 {
    /// Zero-padded to 20 digits (UInt64.max has 20), so file names sort by index.
    var twentyDigits: String {
        let text = String(self)
        return String(repeating: "0", count: 20 - text.count) + text
    }

    /// Parses exactly 20 decimal digits, as `twentyDigits` writes them.
    init?(twentyDigits text: Substring) {
        guard text.utf8.count == 20, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        self.init(text)
    }
}
