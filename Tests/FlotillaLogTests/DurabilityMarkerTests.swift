import FlotillaLog
import Foundation
import Testing

/// The log never drops an acknowledged entry by itself: a log that ends before its
/// durability mark refuses to open, changing nothing, until an operator repairs it.
@Suite struct DurabilityMarkerTests {
    /// Entries 1...20 in segments 1, 9 and 17, all acknowledged.
    private func writeThreeSegments(_ directory: String) async throws {
        let log = try DurableLog.open(directory: directory, configuration: smallSegments)
        _ = try await log.append(entries(1...20))
        await log.close()
    }

    /// 100 entries of 32 bytes in one segment, then 1 KiB of zeros over bytes 1000..<2024:
    /// entries 32 to 64 are damaged and whole records start again at 2048 (entry 65).
    private func zeroKibibyteInTheMiddle(_ directory: String) async throws {
        let log = try DurableLog.open(directory: directory)
        _ = try await log.append(entries(1...100))
        await log.close()
        try damage(directory + "/" + segmentName(1)) {
            $0.replaceSubrange(1000..<2024, with: [UInt8](repeating: 0, count: 1024))
        }
    }

    private func expectRefusal(
        _ directory: String, durable: UInt64, recoverable: UInt64, reasonContains fragment: String,
        configuration: DurableLog.Configuration = .init()
    ) throws {
        let before = try directoryContents(directory)
        let error = try #require(throws: LogError.self) {
            try DurableLog.open(directory: directory, configuration: configuration)
        }
        guard case .durableEntriesMissing(let named, durable, recoverable, let reason) = error else {
            Issue.record("expected durable entries \(recoverable + 1)...\(durable) missing, got \(error)")
            return
        }
        #expect(named == directory)
        #expect(reason.contains(fragment), "\(reason)")
        #expect(error.description.contains("lost entries \(recoverable + 1) through \(durable)"))
        #expect(error.description.contains("flotilla-coordinator repair-log --data-dir \(directory)"))
        #expect(try directoryContents(directory) == before, "a refused open changed the directory")
    }

    // MARK: Refusing

    @Test func deletedLastSegmentRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            try await writeThreeSegments(directory)
            try FileManager.default.removeItem(atPath: directory + "/" + segmentName(17))
            try expectRefusal(
                directory, durable: 20, recoverable: 16, reasonContains: "\(segmentName(9)), ends at entry 16",
                configuration: smallSegments)
        }
    }

    @Test func everySegmentDeletedRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            try await writeThreeSegments(directory)
            for first in [1, 9, 17] {
                try FileManager.default.removeItem(atPath: directory + "/" + segmentName(UInt64(first)))
            }
            try expectRefusal(directory, durable: 20, recoverable: 0, reasonContains: "no segment file holds entries")
        }
    }

    @Test func zeroedLastSegmentRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            try await writeThreeSegments(directory)
            try damage(directory + "/" + segmentName(17)) { $0 = [UInt8](repeating: 0, count: $0.count) }
            try expectRefusal(
                directory, durable: 20, recoverable: 16, reasonContains: "\(segmentName(17)) is damaged at offset 0",
                configuration: smallSegments)
        }
    }

    /// What the zero-filled-sector rule used to take for a torn write and cut.
    @Test func zerosInTheMiddleWithWholeRecordsAfterRefuseToOpen() async throws {
        try await withTemporaryDirectory { directory in
            try await zeroKibibyteInTheMiddle(directory)
            try expectRefusal(
                directory, durable: 100, recoverable: 31,
                reasonContains: "damaged at offset 992: checksum mismatch")
        }
    }

    @Test func acknowledgedLastRecordCutShortRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            try await writeLog(directory, count: 10, durableThrough: 10)
            try damage(directory + "/" + segmentName(1)) { $0.removeLast(5) }
            try expectRefusal(directory, durable: 10, recoverable: 9, reasonContains: "do not make a whole record")
        }
    }

    @Test func corruptMarkerRefusesToOpenNamingIt() async throws {
        try await withTemporaryDirectory { directory in
            try await writeLog(directory, count: 3, durableThrough: 3)
            let marker = directory + "/" + markerName
            try damage(marker) { $0[12] ^= 0x01 }
            let error = try #require(throws: LogError.self) { try DurableLog.open(directory: directory) }
            guard case .corruptDurableMarker(let path, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(path == marker && reason.contains("checksum mismatch"))
            #expect(error.description.contains("repair-log --data-dir \(directory)"))

            let report = try DurableLog.repair(directory: directory)
            #expect(report.keptThrough == 3 && report.droppedEntries == 0 && report.rewritesMarker)
            #expect(report.durableThrough == nil && report.markerProblem?.contains("unreadable") == true)
            let log = try DurableLog.open(directory: directory)
            #expect(log.lastIndex == 3)
            await log.close()
        }
    }

    // MARK: Cutting what was never acknowledged

    /// A partial record after a clean close lies past the mark: a torn tail, cut with a warning.
    @Test func tornTailPastTheMarkIsStillCut() async throws {
        try await withTemporaryDirectory { directory in
            try await writeLog(directory, count: 10, durableThrough: 10)
            let segment = directory + "/" + segmentName(1)
            try damage(segment) { $0 += [0, 0, 0, 0x28, 0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0] }
            let captured = CapturedLogger()
            let log = try DurableLog.open(directory: directory, logger: captured.logger)
            #expect(log.lastIndex == 10)
            #expect(try log.entries(from: 1) == entries(1...10))
            #expect(captured.warnings.count == 1)
            #expect(
                captured.warnings.first?.contains("truncated 11 bytes of torn/corrupt tail at segment \(segment)")
                    == true)
            #expect(try await log.append(entries(11...11)) == 11)
            await log.close()
        }
    }

    /// Records synced by a writer that crashed before moving the mark stay, and the mark
    /// rises over them: after this open they are part of the log.
    @Test func wholeRecordsPastTheMarkStayAndRaiseIt() async throws {
        try await withTemporaryDirectory { directory in
            try await writeLog(directory, count: 10, durableThrough: 6)
            let log = try DurableLog.open(directory: directory)
            #expect(log.lastIndex == 10)
            await log.close()
            try FileManager.default.removeItem(atPath: directory + "/" + segmentName(1))
            try expectRefusal(directory, durable: 10, recoverable: 0, reasonContains: "no segment file")
        }
    }

    // MARK: Moving the mark down and up

    @Test func truncatedSuffixLowersTheMark() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...20))
            let marks = log.markerSyncCount
            try await log.truncateSuffix(after: 11)
            #expect(log.markerSyncCount == marks + 1)
            try await log.truncateSuffix(after: 11)  // nothing to remove: no write
            #expect(log.markerSyncCount == marks + 1)
            await log.close()
            let reopened = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(reopened.lastIndex == 11)
            #expect(try await reopened.append(entries(12...13, term: 2)) == 13)
            await reopened.close()
            let again = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(again.lastIndex == 13 && again.lastTerm == 2)
            await again.close()
        }
    }

    @Test func snapshotPastTheEndRaisesTheMark() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...10))
            try await log.saveSnapshot(index: 100, term: 7, data: [1])
            await log.close()
            let reopened = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(reopened.lastIndex == 100 && reopened.lastTerm == 7)
            await reopened.close()
            // The mark is at 100: without the snapshot, 100 entries are missing.
            try FileManager.default.removeItem(atPath: directory + "/" + (try snapshotFiles(in: directory)[0]))
            try expectRefusal(directory, durable: 100, recoverable: 0, reasonContains: "no segment file")
        }
    }

    @Test func markDisagreeingOnTheTermRefusesToOpen() async throws {
        try await withTemporaryDirectory { directory in
            try await writeLog(directory, count: 5, durableThrough: 5)
            let other = directory + "/other"
            let log = try DurableLog.open(directory: other)
            _ = try await log.append(entries(1...5, term: 2))
            await log.close()
            try FileManager.default.removeItem(atPath: directory + "/" + markerName)
            try FileManager.default.copyItem(atPath: other + "/" + markerName, toPath: directory + "/" + markerName)
            #expect(throws: LogError.durableTermMismatch(directory: directory, index: 5, durableTerm: 2, logTerm: 1)) {
                try DurableLog.open(directory: directory)
            }
        }
    }

    // MARK: Old directories

    @Test func directoryWithoutAMarkerOpensWithANoticeAndGetsOne() async throws {
        try await withTemporaryDirectory { directory in
            try await writeThreeSegments(directory)
            try FileManager.default.removeItem(atPath: directory + "/" + markerName)
            let captured = CapturedLogger()
            let log = try DurableLog.open(directory: directory, configuration: smallSegments, logger: captured.logger)
            #expect(log.lastIndex == 20)
            let notices = captured.handler.entries.filter { $0.level == .notice }.map(\.message.description)
            #expect(notices.count == 1 && notices[0].contains("no DURABLE file"), "\(notices)")
            await log.close()
            #expect(FileManager.default.fileExists(atPath: directory + "/" + markerName))
            try FileManager.default.removeItem(atPath: directory + "/" + segmentName(17))
            try expectRefusal(
                directory, durable: 20, recoverable: 16, reasonContains: "ends at entry 16",
                configuration: smallSegments)
        }
    }

    @Test func newDirectoryGetsAMarkerWithoutANotice() async throws {
        try await withTemporaryDirectory { directory in
            let captured = CapturedLogger()
            let log = try DurableLog.open(directory: directory, logger: captured.logger)
            #expect(captured.handler.entries.allSatisfy { $0.level < .notice })
            #expect(FileManager.default.fileExists(atPath: directory + "/" + markerName))
            await log.close()
        }
    }

    // MARK: Cost

    /// One marker sync per group-commit batch, however many segments the batch touched.
    @Test func markIsSyncedOncePerBatch() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            _ = try await log.append(entries(1...20))  // three segments
            #expect(log.syncCount == 3 && log.markerSyncCount == 1)
            let appenders = 200
            try await withThrowingTaskGroup(of: UInt64.self) { group in
                for _ in 0..<appenders { group.addTask { try await log.append(term: 1, payloads: [[1]]) } }
                try await group.waitForAll()
            }
            let batches = log.markerSyncCount - 1
            #expect(batches >= 1 && batches <= log.syncCount - 3, "\(appenders) appends: \(batches) marker syncs")
            await log.close()
        }
    }

    // MARK: Repair

    @Test func repairAfterTheLastSegmentWasDeletedDropsTheMissingEntries() async throws {
        try await withTemporaryDirectory { directory in
            try await writeThreeSegments(directory)
            try FileManager.default.removeItem(atPath: directory + "/" + segmentName(17))

            let report = try DurableLog.repair(directory: directory)
            #expect(report.keptThrough == 16 && report.durableThrough == 20 && report.droppedEntries == 4)
            #expect(report.wholeRecordsCut == 0 && report.bytesCut == 0 && report.removedFiles.isEmpty)
            #expect(report.rewritesMarker && !report.changesNothing)
            #expect(report.description.contains("kept entries through 16 and dropped 4 entries (17 through 20)"))

            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(log.lastIndex == 16)
            #expect(try await log.append(entries(17...18, term: 2)) == 18)
            await log.close()
            let again = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(try again.entries(from: 1) == entries(1...16) + entries(17...18, term: 2))
            await again.close()
            #expect(try DurableLog.repair(directory: directory).changesNothing)
        }
    }

    @Test func repairAfterZerosInTheMiddleCutsAtTheDamage() async throws {
        try await withTemporaryDirectory { directory in
            try await zeroKibibyteInTheMiddle(directory)
            let segment = directory + "/" + segmentName(1)
            let before = try directoryContents(directory)

            let inspection = try DurableLog.repair(directory: directory, dryRun: true)
            #expect(try directoryContents(directory) == before, "a dry run changed the directory")
            #expect(inspection.dryRun && inspection.description.contains("would keep entries through 31"))
            #expect(inspection.description.contains("nothing was changed"))

            let report = try DurableLog.repair(directory: directory)
            #expect(report.keptThrough == 31 && report.durableThrough == 100 && report.droppedEntries == 69)
            #expect(report.wholeRecordsCut == 36)  // entries 65 to 100 were still whole
            #expect(report.truncatedSegment == segment && report.truncatedAt == 31 * recordSize)
            #expect(report.bytesCut == (100 - 31) * recordSize)
            var expected = report
            expected.dryRun = true
            #expect(inspection == expected)
            #expect(try fileSize(segment) == 31 * recordSize)

            let log = try DurableLog.open(directory: directory)
            #expect(log.lastIndex == 31)
            #expect(try await log.append(entries(32...40)) == 40)
            await log.close()
        }
    }

    @Test func repairRemovesTheSegmentsAfterTheDamage() async throws {
        try await withTemporaryDirectory { directory in
            try await writeThreeSegments(directory)
            try damage(directory + "/" + segmentName(9)) { $0[3 * recordSize + 27] ^= 0x01 }  // entry 12
            #expect(throws: LogError.self) { try DurableLog.open(directory: directory, configuration: smallSegments) }
            let report = try DurableLog.repair(directory: directory)
            #expect(report.keptThrough == 11 && report.droppedEntries == 9)
            #expect(report.wholeRecordsCut == 4 + 4)  // 13 to 16 after the damage, 17 to 20 in the next segment
            #expect(report.removedFiles == [directory + "/" + segmentName(17)])
            #expect(report.truncatedAt == 3 * recordSize)
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            #expect(log.lastIndex == 11)
            await log.close()
        }
    }

    @Test func repairRefusesWhatIsNotALogAndAnOpenLog() async throws {
        try await withTemporaryDirectory { directory in
            #expect(throws: LogError.noLog(directory: directory)) { try DurableLog.repair(directory: directory) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
            let log = try DurableLog.open(directory: directory)
            #expect(throws: LogError.self) { try DurableLog.repair(directory: directory) }
            await log.close()
        }
    }
}
