import FlotillaLog
import Testing

@Suite struct TruncateSuffixTests {
    @Test func truncateAcrossSegmentsThenAppendNewTerm() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...40))
            try await log.truncateSuffix(after: 11)
            #expect(log.lastIndex == 11 && log.lastTerm == 1)
            #expect(try segmentFiles(in: directory) == [1, 9].map(segmentName))
            #expect(try fileSize(directory + "/" + segmentName(9)) == 3 * recordSize)
            #expect(try log.entries(from: 10).map(\.index) == [10, 11])
            #expect(try await log.append(entries(12...20, term: 2)) == 20)
            await log.close()

            let reopened = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(try reopened.entries(from: 1) == entries(1...11) + entries(12...20, term: 2))
            #expect(reopened.lastTerm == 2)
            await reopened.close()
        }
    }

    @Test func truncateAtSegmentBoundary() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...20))
            try await log.truncateSuffix(after: 16)
            #expect(try segmentFiles(in: directory) == [1, 9].map(segmentName))
            _ = try await log.append(entries(17...17, term: 3))
            #expect(try segmentFiles(in: directory) == [1, 9, 17].map(segmentName))
            try await log.truncateSuffix(after: 30)  // past the end: nothing
            try await log.truncateSuffix(after: 0)
            #expect(log.lastIndex == 0 && log.lastTerm == 0)
            #expect(try segmentFiles(in: directory).isEmpty)
            #expect(try await log.append(entries(1...1, term: 4)) == 1)
            await log.close()
        }
    }

    @Test func cannotTruncateIntoTheSnapshot() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...20))
            try await log.saveSnapshot(index: 12, term: 1, data: [])
            await #expect(throws: LogError.truncateBelowSnapshot(index: 11, snapshotIndex: 12)) {
                try await log.truncateSuffix(after: 11)
            }
            try await log.truncateSuffix(after: 12)
            #expect(log.lastIndex == 12 && log.lastTerm == 1)
            #expect(try await log.append(entries(13...13, term: 2)) == 13)
            await log.close()
            let reopened = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(try reopened.entries(from: 13) == entries(13...13, term: 2))
            await reopened.close()
        }
    }
}
