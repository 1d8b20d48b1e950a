import FlotillaLog
import Foundation
import Testing

@Suite struct DirectoryLockTests {
    /// flock belongs to the open file description, so a second open of the LOCK file
    /// conflicts even within one process, as a second coordinator process would.
    @Test func secondOpenIsRefusedNamingTheHolder() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory)
            let error = try #require(throws: LogError.self) { try DurableLog.open(directory: directory) }
            #expect(
                error == .directoryLocked(directory: directory, holderPID: ProcessInfo.processInfo.processIdentifier))
            #expect(error.description.contains(directory) && error.description.contains("\(getpid())"))

            _ = try await log.append(entries(1...1))
            await log.close()
            let reopened = try DurableLog.open(directory: directory)
            #expect(reopened.lastIndex == 1)
            await reopened.close()
        }
    }

    @Test func openCreatesMissingDirectories() async throws {
        try await withTemporaryDirectory { directory in
            let nested = directory + "/a/b/data"
            let log = try DurableLog.open(directory: nested)
            #expect(FileManager.default.fileExists(atPath: nested + "/LOCK"))
            await log.close()
        }
    }
}
