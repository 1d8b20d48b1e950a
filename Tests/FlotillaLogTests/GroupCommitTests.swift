import FlotillaLog
import Testing

@Suite struct GroupCommitTests {
    @Test func concurrentAppendsShareSyncs() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory)
            let appenders = 200
            let acknowledged = try await withThrowingTaskGroup(of: (UInt64, [UInt8]).self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        let command = Array("submit job \(appender)".utf8)
                        return (try await log.append(term: 1, payloads: [command]), command)
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(acknowledged.count == appenders)
            #expect(Set(acknowledged.keys) == Set(1...UInt64(appenders)))
            let syncs = log.syncCount
            #expect(syncs >= 1 && syncs <= UInt64(appenders / 4), "\(appenders) appends took \(syncs) syncs")
            await log.close()

            let reopened = try DurableLog.open(directory: directory)
            for entry in try reopened.entries(from: 1) {
                #expect(acknowledged[entry.index] == entry.payload)
            }
            #expect(reopened.lastIndex == UInt64(appenders))
            await reopened.close()
        }
    }

    @Test func appendsWithExplicitIndicesFromManyTasksKeepOrder() async throws {
        try await withTemporaryDirectory { directory in
            let log = try DurableLog.open(directory: directory, configuration: smallSegments)
            // Each task waits for its predecessor's index to be durable, as a Raft follower would.
            for chunk in stride(from: UInt64(1), through: 100, by: 10) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try await log.append(entries(chunk...(chunk + 4))) }
                    try await group.waitForAll()
                    group.addTask { _ = try await log.append(entries((chunk + 5)...(chunk + 9))) }
                    try await group.waitForAll()
                }
            }
            #expect(try log.entries(from: 1) == entries(1...100))
            await log.close()
        }
    }
}
