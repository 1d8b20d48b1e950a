import FlotillaLog
import Foundation
import Testing
@testable import FlotillaRaft
import FlotillaRaftStorage

/// The Raft member's storage on the real durable log, in a temporary directory.
@Suite struct RaftStorageTests {
    let directory: String

    init() {
        directory = NSTemporaryDirectory() + "raft-storage-" + UUID().uuidString
    }

    func entries(_ range: ClosedRange<UInt64>, term: UInt64) -> [Entry] {
        range.map { Entry(index: $0, term: term, payload: .command(Array("c\($0)".utf8))) }
    }

    @Test func whatWasSavedIsLoadedAfterReopening() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try RaftStorage.open(directory: directory)
        var ready = Ready()
        ready.hardState = HardState(term: 3, vote: "n2", commit: 2)
        ready.entries = [
            Entry(index: 1, term: 1, payload: .empty),
            Entry(index: 2, term: 2, payload: .membership(Membership(voters: ["n1", "n2", "n3"], learners: ["n4"]))),
            Entry(index: 3, term: 3, payload: .command([0, 1, 2, 255])),
        ]
        try await storage.save(ready)
        await storage.close()

        let reopened = try RaftStorage.open(directory: directory)
        let loaded = try reopened.load()
        #expect(loaded.hardState == HardState(term: 3, vote: "n2", commit: 2))
        #expect(loaded.entries == ready.entries)
        #expect(loaded.snapshot == nil)
        await reopened.close()
    }

    @Test func theFoundingVotersAreThoseOfTheFirstStart() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let founders = Membership(voters: ["n1", "n2", "n3"])
        let storage = try RaftStorage.open(directory: directory)
        #expect(try storage.foundingMembership(configured: founders) == founders)
        await storage.close()

        // raft.peers edited before any membership change: the founders stand.
        let reopened = try RaftStorage.open(directory: directory)
        #expect(try reopened.foundingMembership(configured: Membership(voters: ["n1", "n2", "n3", "n4"])) == founders)
        await reopened.close()

        // A damaged file refuses, naming it, rather than falling back to the configuration.
        let path = directory + "/FOUNDERS"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 6] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let damaged = try RaftStorage.open(directory: directory)
        #expect {
            try damaged.foundingMembership(configured: founders)
        } throws: { error in
            guard case LogError.corruptFoundingMembers(let named, let reason)? = error as? LogError else { return false }
            return named == path && reason == "checksum mismatch"
        }
        await damaged.close()
    }

    @Test func aConflictingSuffixIsReplaced() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try RaftStorage.open(directory: directory)
        var first = Ready()
        first.entries = entries(1...5, term: 1)
        try await storage.save(first)
        var second = Ready()
        second.entries = entries(3...4, term: 2)
        try await storage.save(second)
        let loaded = try storage.load()
        #expect(loaded.entries.map(\.index) == [1, 2, 3, 4])
        #expect(loaded.entries.map(\.term) == [1, 1, 2, 2])
        await storage.close()
    }

    @Test func aLeadersSnapshotReplacesAConflictingLog() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try RaftStorage.open(directory: directory)
        var first = Ready()
        first.entries = entries(1...5, term: 1)
        try await storage.save(first)
        var install = Ready()
        let membership = Membership(voters: ["n1", "n2", "n3"])
        install.snapshot = Snapshot(index: 4, term: 2, membership: membership, data: Array("state".utf8))
        try await storage.save(install)
        await storage.close()

        let reopened = try RaftStorage.open(directory: directory)
        let loaded = try reopened.load()
        #expect(loaded.snapshot == install.snapshot)
        #expect(loaded.entries.isEmpty)
        await reopened.close()
    }

    /// A Ready that only moves the commit index writes nothing to the CONSENSUS file: the
    /// commit index is advisory, and each term or vote change is one synced file replacement.
    @Test func onlyATermOrVoteChangeRewritesTheConsensusFile() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try RaftStorage.open(directory: directory)
        var vote = Ready()
        vote.hardState = HardState(term: 2, vote: "n1", commit: 0)
        try await storage.save(vote)
        var commit = Ready()
        commit.hardState = HardState(term: 2, vote: "n1", commit: 7)
        try await storage.save(commit)
        #expect(try ConsensusStateFile.read(directory: directory) == ConsensusState(term: 2, vote: "n1", commit: 0))
        var newTerm = Ready()
        newTerm.hardState = HardState(term: 3, vote: nil, commit: 9)
        try await storage.save(newTerm)
        #expect(try ConsensusStateFile.read(directory: directory) == ConsensusState(term: 3, vote: nil, commit: 9))
        await storage.close()
    }

    @Test func aDamagedConsensusFileRefusesToOpen() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = try RaftStorage.open(directory: directory)
        var vote = Ready()
        vote.hardState = HardState(term: 2, vote: "n1", commit: 0)
        try await storage.save(vote)
        await storage.close()
        let path = ConsensusStateFile.path(in: directory)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[12] ^= 0x40  // a flipped bit in the term
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try RaftStorage.open(directory: directory)
        } throws: { error in
            guard case LogError.corruptConsensusState(let named, let reason) = error else { return false }
            return named == path && reason == "checksum mismatch"
                && "\(error)".contains("refuses to start")
        }
    }

    /// A single-member group saves every Ready, stops, and restarts from disk: it keeps its
    /// term, its vote and every command, and applies them again in order.
    @Test func aNodeRestartsFromItsStorage() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let options = RaftOptions(id: "n1")
        let membership = Membership(voters: ["n1"])
        var node = RaftNode(options: options, bootstrap: membership)
        let storage = try RaftStorage.open(directory: directory)
        node.campaign()
        for command in ["a", "b", "c"] { _ = try node.propose(Array(command.utf8)) }
        while node.hasReady {
            let ready = node.ready()
            try await storage.save(ready)
            node.advance(ready)
        }
        #expect(node.commitIndex == 4)
        let term = node.term
        await storage.close()

        let reopened = try RaftStorage.open(directory: directory)
        var restarted = RaftNode(options: options, stored: try reopened.load(), bootstrap: membership)
        #expect(restarted.term == term)
        #expect(restarted.vote == "n1")
        #expect(restarted.lastIndex == 4)
        restarted.campaign()
        var applied: [String] = []
        while restarted.hasReady {
            let ready = restarted.ready()
            try await reopened.save(ready)
            for entry in ready.committedEntries {
                if case .command(let bytes) = entry.payload { applied.append(String(decoding: bytes, as: UTF8.self)) }
            }
            restarted.advance(ready)
        }
        #expect(applied == ["a", "b", "c"])
        #expect(restarted.term == term + 1)
        await reopened.close()
    }

    @Test func malformedRecordsAreRejectedWithAReason() throws {
        #expect(throws: RaftRecordCodec.Malformed.self) { try RaftRecordCodec.decodePayload([]) }
        #expect(throws: RaftRecordCodec.Malformed.self) { try RaftRecordCodec.decodePayload([9]) }
        #expect(throws: RaftRecordCodec.Malformed.self) { try RaftRecordCodec.decodePayload([2, 0, 5, 3]) }
        #expect(throws: RaftRecordCodec.Malformed.self) { try RaftRecordCodec.decodeSnapshotData([0, 0, 1, 0, 1]) }
        let membership = Membership(voters: ["a", "b"], learners: ["c"])
        #expect(try RaftRecordCodec.decodePayload(RaftRecordCodec.encode(.membership(membership))) == .membership(membership))
        let data = RaftRecordCodec.encodeSnapshotData(membership: membership, state: [7, 8])
        let decoded = try RaftRecordCodec.decodeSnapshotData(data)
        #expect(decoded.membership == membership)
        #expect(decoded.state == [7, 8])
    }
}
