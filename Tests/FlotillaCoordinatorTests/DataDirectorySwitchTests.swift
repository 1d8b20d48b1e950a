import FlotillaConfig
@testable import FlotillaCoordinator
import FlotillaLog
import Foundation
import Testing

/// A single coordinator keeps its log in `<data_dir>/log`, a replicated one in
/// `<data_dir>/raft`: a configuration that switches between them over a data directory
/// holding only the other kind's log is refused, rather than starting empty.
@Suite struct DataDirectorySwitchTests {
    let directory = NSTemporaryDirectory() + "flotilla-switch-" + UUID().uuidString

    func configuration(peers: Int) throws -> CoordinatorConfiguration {
        var yaml = "name: c1\ndata_dir: \(directory)\ntls: {cert: c.pem, key: k.pem, ca: ca.pem}\n"
        if peers > 1 {
            yaml += "raft:\n  peers:\n" + (1...peers).map { "    - {name: c\($0), address: \"127.0.0.1:\(7399 + $0)\"}\n" }.joined()
        }
        return try CoordinatorConfiguration(reader: try ConfigReader(yaml: yaml, environment: [:]))
    }

    /// Writes one entry into the log at `<data_dir>/<name>`.
    func writeLog(_ name: String) async throws {
        let log = try DurableLog.open(directory: directory + "/" + name)
        _ = try await log.append(term: 1, payloads: [[1, 2, 3]])
        await log.close()
    }

    func refusal(peers: Int) throws -> ConfigError? {
        do {
            try CoordinatorCore.refuseSilentSwitch(try configuration(peers: peers))
            return nil
        } catch let error as ConfigError {
            return error
        }
    }

    @Test func aSingleCoordinatorsLogIsNotLeftBehindByAReplicatedStart() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try refusal(peers: 3) == nil, "a new data directory starts either way")
        try await writeLog("log")
        #expect(try refusal(peers: 1) == nil)
        let refused = try #require(try refusal(peers: 3))
        #expect(refused.key == "raft.peers")
        #expect(refused.message.contains("holds a single coordinator's log (\(directory)/log)"), "\(refused)")
        #expect(refused.message.contains("would start empty, leaving those jobs behind"))
        // Once the group has a log of its own, the old one is the operator's business.
        try await writeLog("raft")
        #expect(try refusal(peers: 3) == nil)
    }

    @Test func aGroupsLogIsNotLeftBehindByASingleStart() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await writeLog("raft")
        #expect(try refusal(peers: 3) == nil)
        let refused = try #require(try refusal(peers: 1))
        #expect(refused.message.contains("holds a replicated coordinator's log (\(directory)/raft)"), "\(refused)")
    }
}
