import FlotillaLog
import Foundation
import Testing

@Suite struct SnapshotTests {
    private let state = Array("jobs: 20 queued".utf8)

    @Test func snapshotRemovesCoveredSegmentsAndReopensWithSuffix() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...40))
            try await log.saveSnapshot(index: 20, term: 1, data: state)

            // Segments 1-8 and 9-16 are wholly covered; 17-24 still holds 21 to 24.
            #expect(try segmentFiles(in: directory) == [17, 25, 33].map(segmentName))
            #expect(try snapshotFiles(in: directory) == ["snapshot-00000000000000000020-00000000000000000001.snap"])
            #expect(log.firstIndex == 21 && log.snapshotIndex == 20 && log.lastIndex == 40)
            #expect(log.term(at: 20) == 1 && log.term(at: 19) == nil)
            #expect(throws: LogError.compacted(index: 20, firstIndex: 21)) { try log.entries(from: 20) }
            #expect(try await log.append(entries(41...45)) == 45)
            await log.close()

            let reopened = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(try reopened.loadSnapshot() == LogSnapshot(index: 20, term: 1, data: state))
            #expect(reopened.firstIndex == 21 && reopened.lastIndex == 45)
            #expect(try reopened.entries(from: 21) == entries(21...45))
            await reopened.close()
        }
    }

    @Test func snapshotPastTheEndReplacesTheLog() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...10))
            try await log.saveSnapshot(index: 100, term: 7, data: state)
            #expect(try segmentFiles(in: directory).isEmpty)
            #expect(log.firstIndex == 101 && log.lastIndex == 100 && log.lastTerm == 7)
            #expect(try log.entries(from: 101).isEmpty)
            await #expect(throws: LogError.nonContiguousAppend(expected: 101, got: 11)) {
                try await log.append(entries(11...11))
            }
            #expect(try await log.append(term: 8, payloads: [[1]]) == 101)
            await log.close()

            let reopened = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(reopened.snapshotIndex == 100 && reopened.snapshotTerm == 7)
            #expect(try reopened.entries(from: 101) == [LogEntry(index: 101, term: 8, payload: [1])])
            await reopened.close()
        }
    }

    @Test func newerSnapshotReplacesOlder() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(try log.loadSnapshot() == nil)
            _ = try await log.append(entries(1...30))
            try await log.saveSnapshot(index: 10, term: 1, data: [1])
            try await log.saveSnapshot(index: 25, term: 1, data: [2])
            #expect(try snapshotFiles(in: directory) == ["snapshot-00000000000000000025-00000000000000000001.snap"])
            #expect(try log.loadSnapshot()?.data == [2])
            await #expect(throws: LogError.staleSnapshot(index: 24, snapshotIndex: 25)) {
                try await log.saveSnapshot(index: 24, term: 1, data: [])
            }
            await #expect(throws: LogError.snapshotTermMismatch(index: 28, snapshotTerm: 2, logTerm: 1)) {
                try await log.saveSnapshot(index: 28, term: 2, data: [])
            }
            #expect(try snapshotFiles(in: directory).count == 1)  // refused snapshots leave no file
            await log.close()
        }
    }

    @Test func corruptSnapshotRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory)
            _ = try await log.append(entries(1...5))
            try await log.saveSnapshot(index: 5, term: 1, data: state)
            await log.close()
            let file = directory + "/" + (try snapshotFiles(in: directory)[0])
            try damage(file) { $0[30] ^= 0x20 }
            let error = try #require(throws: LogError.self) { try DurableLog.open(directory: directory) }
            guard case .corruptSnapshot(let path, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(path == file && reason.contains("checksum mismatch"))
        }
    }

    /// A crash after the snapshot's rename but before the old segments went leaves them,
    /// and perhaps a temporary file: opening finishes the job.
    @Test func openFinishesAnInterruptedCompaction() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...20))
            let saved = try [1, 9].map { name in
                (name, try Data(contentsOf: URL(fileURLWithPath: directory + "/" + segmentName(UInt64(name)))))
            }
            try await log.saveSnapshot(index: 16, term: 1, data: state)
            await log.close()
            for (name, bytes) in saved {
                try bytes.write(to: URL(fileURLWithPath: directory + "/" + segmentName(UInt64(name))))
            }
            try Data([1, 2, 3]).write(
                to: URL(fileURLWithPath: directory + "/snapshot-00000000000000000030-00000000000000000001.snap.1f.tmp"))

            let reopened = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(try segmentFiles(in: directory) == [segmentName(17)])
            #expect(try snapshotFiles(in: directory).count == 1)
            #expect(reopened.firstIndex == 17 && reopened.lastIndex == 20)
            #expect(try reopened.entries(from: 17) == entries(17...20))
            await reopened.close()
        }
    }

    @Test func appendsContinueWhileASnapshotIsWritten() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...10))
            async let snapshot: Void = log.saveSnapshot(index: 10, term: 1, data: [UInt8](repeating: 9, count: 4 << 20))
            async let appended = log.append(entries(11...12))
            try await snapshot
            #expect(try await appended == 12)
            #expect(log.snapshotIndex == 10 && log.lastIndex == 12)
            #expect(try log.loadSnapshot()?.data.count == 4 << 20)
            await log.close()
        }
    }
}
