import FlotillaLog
import Foundation
import Testing

/// A crash leaves damage at the end of the last segment, past the durability mark, which
/// opening cuts off and reports; damage anywhere else may hide acknowledged records and
/// stops the open (DurabilityMarkerTests: damage under the mark).
@Suite struct TailRecoveryTests {
    /// Writes entries 1...count into one segment and returns its path.
    private func writeLog(_ directory: String, count: UInt64, configuration: DurableLog.Configuration = .init())
        async throws -> String
    {
        let log = try DurableLog.open(directory: directory, configuration: configuration)
        _ = try await log.append(entries(1...count))
        await log.close()
        return directory + "/" + segmentName(1)
    }

    @Test func tornTailIsTruncatedAndReported() async throws {
        try await withTemporaryDirectory { directory in
            try await FlotillaLogTests.writeLog(directory, count: 10, durableThrough: 9)
            let segment = directory + "/" + segmentName(1)
            try damage(segment) { $0.removeLast(recordSize - 13) }  // the last record cut after 13 bytes

            let captured = CapturedLogger()
            let log = try DurableLog.open(directory: directory, logger: captured.logger)
            #expect(log.lastIndex == 9)
            #expect(captured.warnings.count == 1)
            #expect(
                captured.warnings.first?.contains(
                    "truncated 13 bytes of torn/corrupt tail at segment \(segment) offset 288") == true)
            #expect(try fileSize(segment) == 9 * recordSize)

            #expect(try await log.append([LogEntry(index: 10, term: 2, payload: [0xEE])]) == 10)
            await log.close()
            let reopened = try DurableLog.open(directory: directory)
            #expect(try reopened.entries(from: 1).map(\.payload) == (1...9).map(payload) + [[0xEE]])
            #expect(reopened.lastTerm == 2)
            await reopened.close()
        }
    }

    @Test func flippedBitInLastRecordIsTruncated() async throws {
        try await withTemporaryDirectory { directory in
            try await FlotillaLogTests.writeLog(directory, count: 10, durableThrough: 9)
            let segment = directory + "/" + segmentName(1)
            try damage(segment) { $0[9 * recordSize + 30] ^= 0x04 }

            let captured = CapturedLogger()
            let log = try DurableLog.open(directory: directory, logger: captured.logger)
            #expect(log.lastIndex == 9)
            let warning = try #require(captured.warnings.first)
            #expect(warning.contains("truncated 32 bytes of torn/corrupt tail at segment \(segment) offset 288"))
            #expect(warning.contains("checksum mismatch"))
            #expect(try await log.append(entries(10...11)) == 11)
            await log.close()
        }
    }

    @Test func garbageAfterLastRecordIsTruncated() async throws {
        try await withTemporaryDirectory { directory in
            let segment = try await writeLog(directory, count: 10)
            var generator = SystemRandomNumberGenerator()
            try damage(segment) { bytes in bytes += (0..<100).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }

            let captured = CapturedLogger()
            let log = try DurableLog.open(directory: directory, logger: captured.logger)
            #expect(log.lastIndex == 10)
            #expect(captured.warnings.first?.contains("truncated 100 bytes of torn/corrupt tail") == true)
            await log.close()
        }
    }

    @Test func zeroFilledTailIsTruncated() async throws {
        try await withTemporaryDirectory { directory in
            let segment = try await writeLog(directory, count: 3)
            try damage(segment) { $0 += [UInt8](repeating: 0, count: 4096) }
            let captured = CapturedLogger()
            let log = try DurableLog.open(directory: directory, logger: captured.logger)
            #expect(log.lastIndex == 3)
            #expect(captured.warnings.first?.contains("truncated 4096 bytes") == true)
            await log.close()
        }
    }

    @Test func flippedBitInMiddleRecordRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            let segment = try await writeLog(directory, count: 10)
            try damage(segment) { $0[4 * recordSize + 27] ^= 0x01 }

            let error = try #require(throws: LogError.self) { try DurableLog.open(directory: directory) }
            guard case .corruptSegment(let path, let offset, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(path == segment && offset == 4 * recordSize)
            #expect(reason.contains("checksum mismatch") && reason.contains("whole record follows at offset 160"))
            #expect(error.description.contains("refusing to open rather than drop acknowledged records"))
            #expect(try fileSize(segment) == 10 * recordSize)  // nothing was cut
        }
    }

    @Test func corruptLengthInMiddleRecordRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            let segment = try await writeLog(directory, count: 10)
            try damage(segment) { $0[2 * recordSize + 2] = 0x7F }  // length now runs past the end
            #expect(throws: LogError.self) { try DurableLog.open(directory: directory) }
            #expect(try fileSize(segment) == 10 * recordSize)
        }
    }

    /// A crash can keep later pages of an unsynced write and lose earlier ones, which read
    /// back as zeros: the records after the hole were never acknowledged (the mark is at 4).
    @Test func zeroedPageOfUnsyncedWriteIsTruncated() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory)
            let big = (1...12).map { LogEntry(index: $0, term: 1, payload: [UInt8](repeating: UInt8($0), count: 1000)) }
            _ = try await log.append(Array(big[..<4]))  // 1024-byte records
            await log.close()
            let mark = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + markerName))
            let unsynced = try DurableLog.open(directory: directory)
            _ = try await unsynced.append(Array(big[4...]))
            await unsynced.close()
            try mark.write(to: URL(fileURLWithPath: directory + "/" + markerName))
            let segment = directory + "/" + segmentName(1)
            try damage(segment) { $0.replaceSubrange(4096..<8192, with: [UInt8](repeating: 0, count: 4096)) }

            let captured = CapturedLogger()
            let reopened = try DurableLog.open(directory: directory, logger: captured.logger)
            #expect(reopened.lastIndex == 4)
            let warning = try #require(captured.warnings.first)
            #expect(warning.contains("truncated 8192 bytes of torn/corrupt tail at segment \(segment) offset 4096"))
            #expect(warning.contains("zero-filled sector at offset 4096"))
            await reopened.close()
        }
    }

    @Test func damageInAnEarlierSegmentRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            _ = try await writeLog(directory, count: 20, configuration: smallSegments)
            let first = directory + "/" + segmentName(1)
            try damage(first) { $0.removeLast(5) }
            let error = try #require(throws: LogError.self) {
                try DurableLog.open(directory: directory, configuration: smallSegments)
            }
            #expect(error.description.contains("not the last"))
            #expect(try fileSize(first) == 8 * recordSize - 5)
        }
        try await withTemporaryDirectory { directory in
            _ = try await writeLog(directory, count: 20, configuration: smallSegments)
            try damage(directory + "/" + segmentName(9)) { $0[7 * recordSize + 25] ^= 0x80 }  // its last record
            #expect(throws: LogError.self) { try DurableLog.open(directory: directory, configuration: smallSegments) }
        }
    }

    @Test func missingSegmentRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            _ = try await writeLog(directory, count: 20, configuration: smallSegments)
            try FileManager.default.removeItem(atPath: directory + "/" + segmentName(9))
            #expect(throws: LogError.missingEntries(directory: directory, from: 9, through: 16)) {
                try DurableLog.open(directory: directory, configuration: smallSegments)
            }
        }
    }

    @Test func recordWithWrongIndexRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            _ = try await writeLog(directory, count: 20, configuration: smallSegments)
            // A whole, valid segment under the wrong name: not a crash.
            try FileManager.default.moveItem(
                atPath: directory + "/" + segmentName(17), toPath: directory + "/" + segmentName(18))
            let error = try #require(throws: LogError.self) {
                try DurableLog.open(directory: directory, configuration: smallSegments)
            }
            #expect(error.description.contains("record holds entry 17 where 18 belongs"))
        }
    }
}
