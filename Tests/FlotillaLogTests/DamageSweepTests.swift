import FlotillaLog
import Foundation
import Testing

/// Every damage of a given kind, not a chosen example: each cut point of the segment and
/// each bit of a record.
@Suite struct DamageSweepTests {
    /// Ten entries in one segment, the mark at `durable`; returns the segment's and the mark's bytes.
    private func writeTenEntries(_ directory: String, durableThrough durable: UInt64 = 10) async throws
        -> (segment: [UInt8], mark: [UInt8])
    {
        try await writeLog(directory, count: 10, durableThrough: durable)
        return (try fileBytes(directory + "/" + segmentName(1)), try fileBytes(directory + "/" + markerName))
    }

    /// Puts the segment's bytes and the mark back, as the crash left them, and opens.
    private func reopen(_ directory: String, with bytes: [UInt8], mark: [UInt8]) throws
        -> (log: DurableLog, warnings: [String])
    {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + segmentName(1)))
        try Data(mark).write(to: URL(fileURLWithPath: directory + "/" + markerName))
        let captured = CapturedLogger()
        return (try DurableLog.open(directory: directory, logger: captured.logger), captured.warnings)
    }

    /// Entries 6 to 10 were written but never acknowledged: a cut among them loses nothing
    /// durable and is a torn tail; a cut into 1 to 5 loses acknowledged entries and refuses,
    /// changing nothing.
    @Test func everyCutKeepsTheWholeRecordsBeforeItOrRefusesUnderTheMark() async throws {
        try await withTemporaryDirectory { directory in
            let (original, mark) = try await writeTenEntries(directory, durableThrough: 5)
            for cut in stride(from: original.count, through: 0, by: -1) {
                let whole = cut / recordSize
                guard whole >= 5 else {
                    try Data(original[..<cut]).write(to: URL(fileURLWithPath: directory + "/" + segmentName(1)))
                    try Data(mark).write(to: URL(fileURLWithPath: directory + "/" + markerName))
                    let error = try #require(throws: LogError.self, "cut at \(cut)") {
                        try DurableLog.open(directory: directory)
                    }
                    guard case .durableEntriesMissing(_, 5, let recoverable, _) = error else {
                        Issue.record("cut at \(cut): \(error)")
                        continue
                    }
                    #expect(recoverable == UInt64(whole), "cut at \(cut)")
                    #expect(try fileSize(directory + "/" + segmentName(1)) == cut, "cut at \(cut)")
                    continue
                }
                let (log, warnings) = try reopen(directory, with: Array(original[..<cut]), mark: mark)
                #expect(log.lastIndex == UInt64(whole), "cut at \(cut)")
                #expect(warnings.count == (cut % recordSize == 0 ? 0 : 1), "cut at \(cut)")
                #expect(try log.entries(from: 1) == entries(1...10).prefix(whole).map { $0 }, "cut at \(cut)")
                await log.close()
            }
        }
    }

    @Test func everyBitFlipInAnUnacknowledgedLastRecordIsTruncated() async throws {
        try await withTemporaryDirectory { directory in
            let (original, mark) = try await writeTenEntries(directory, durableThrough: 9)
            for bit in 0..<(recordSize * 8) {
                var bytes = original
                bytes[9 * recordSize + bit / 8] ^= 1 << (bit % 8)
                let (log, warnings) = try reopen(directory, with: bytes, mark: mark)
                #expect(log.lastIndex == 9, "bit \(bit)")
                #expect(warnings.count == 1 && warnings[0].contains("offset 288"), "bit \(bit)")
                await log.close()
            }
        }
    }

    @Test func everyBitFlipInAnEarlierRecordRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            let (original, _) = try await writeTenEntries(directory)
            for record in [0, 4, 8] {
                for bit in stride(from: record, to: recordSize * 8, by: 3) {
                    var bytes = original
                    bytes[record * recordSize + bit / 8] ^= 1 << (bit % 8)
                    try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + segmentName(1)))
                    #expect(throws: LogError.self, "record \(record + 1) bit \(bit)") {
                        try DurableLog.open(directory: directory)
                    }
                }
            }
        }
    }
}
