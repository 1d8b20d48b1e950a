import FlotillaLog
import Foundation
import Testing

/// Every damage of a given kind, not a chosen example: each cut point of the segment and
/// each bit of a record.
@Suite struct DamageSweepTests {
    private func writeTenEntries(_ directory: String) async throws -> [UInt8] {
        let log = try DurableLog.open(directory: directory)
        _ = try await log.append(entries(1...10))
        await log.close()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + segmentName(1))))
    }

    private func reopen(_ directory: String, with bytes: [UInt8]) throws -> (log: DurableLog, warnings: [String]) {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + segmentName(1)))
        let captured = CapturedLogger()
        return (try DurableLog.open(directory: directory, logger: captured.logger), captured.warnings)
    }

    @Test func everyCutKeepsTheWholeRecordsBeforeIt() async throws {
        try await withTemporaryDirectory { directory in
            let original = try await writeTenEntries(directory)
            for cut in stride(from: original.count, through: 0, by: -1) {
                let (log, warnings) = try reopen(directory, with: Array(original[..<cut]))
                let whole = cut / recordSize
                #expect(log.lastIndex == UInt64(whole), "cut at \(cut)")
                #expect(warnings.count == (cut % recordSize == 0 ? 0 : 1), "cut at \(cut)")
                #expect(try log.entries(from: 1) == entries(1...10).prefix(whole).map { $0 }, "cut at \(cut)")
                await log.close()
            }
        }
    }

    @Test func everyBitFlipInTheLastRecordIsTruncated() async throws {
        try await withTemporaryDirectory { directory in
            let original = try await writeTenEntries(directory)
            for bit in 0..<(recordSize * 8) {
                var bytes = original
                bytes[9 * recordSize + bit / 8] ^= 1 << (bit % 8)
                let (log, warnings) = try reopen(directory, with: bytes)
                #expect(log.lastIndex == 9, "bit \(bit)")
                #expect(warnings.count == 1 && warnings[0].contains("offset 288"), "bit \(bit)")
                await log.close()
            }
        }
    }

    @Test func everyBitFlipInAnEarlierRecordRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            let original = try await writeTenEntries(directory)
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
