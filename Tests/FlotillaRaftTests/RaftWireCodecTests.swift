import FlotillaProto
import Foundation
import SwiftProtobuf
import Testing
@testable import FlotillaRaft
import FlotillaRaftWire

/// Core messages survive the wire, snapshots split and rejoin, and malformed ones are refused.
@Suite struct RaftWireCodecTests {
    func roundTrip(_ message: FlotillaRaft.Message) throws -> FlotillaRaft.Message {
        guard case .message(let wire) = RaftWireCodec.encode(message) else {
            Issue.record("\(message.kind) was not one frame")
            return message
        }
        // Through bytes, as a frame would carry it.
        let bytes: Data = try wire.serializedBytes()
        return try RaftWireCodec.decode(Flotilla_V1_RaftMessage(serializedBytes: bytes))
    }

    @Test(arguments: FlotillaRaft.Message.Kind.allCases.filter { $0 != .snapshot })
    func everyKindRoundTrips(_ kind: FlotillaRaft.Message.Kind) throws {
        var message = FlotillaRaft.Message(kind: kind, from: "coord-1", to: "coord-2", term: 7)
        message.logTerm = 6
        message.index = 41
        message.commit = 40
        message.reject = kind == .appendResponse
        message.rejectHint = 30
        message.context = 99
        message.transfer = kind == .vote
        if kind == .append {
            message.entries = [
                Entry(index: 42, term: 7, payload: .empty),
                Entry(index: 43, term: 7, payload: .command([1, 2, 3])),
                Entry(index: 44, term: 7, payload: .membership(Membership(voters: ["coord-1", "coord-2"], learners: ["coord-3"]))),
            ]
        }
        #expect(try roundTrip(message) == message)
    }

    @Test func aSnapshotTravelsInChunksAndIsReassembled() throws {
        let data = (0..<(2 * RaftWireCodec.chunkSize + 1000)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var message = FlotillaRaft.Message(kind: .snapshot, from: "coord-1", to: "coord-3", term: 5)
        message.snapshot = Snapshot(index: 900, term: 4, membership: Membership(voters: ["coord-1", "coord-2", "coord-3"]), data: data)
        guard case .snapshot(let chunks) = RaftWireCodec.encode(message) else {
            Issue.record("a snapshot was not sent as chunks")
            return
        }
        #expect(chunks.count == 3)
        #expect(chunks.map(\.done) == [false, false, true])
        var assembler = SnapshotAssembler()
        #expect(try assembler.add(chunks[0]) == nil)
        #expect(try assembler.add(chunks[1]) == nil)
        #expect(try assembler.add(chunks[2]) == message)
    }

    @Test func outOfOrderOrOversizedChunksAreDiscarded() throws {
        var message = FlotillaRaft.Message(kind: .snapshot, from: "coord-1", to: "coord-3", term: 5)
        message.snapshot = Snapshot(index: 900, term: 4, membership: Membership(voters: ["coord-1"]), data: Array(repeating: 1, count: 300))
        guard case .snapshot(let chunks) = RaftWireCodec.encode(message, chunkSize: 100) else { return }
        var assembler = SnapshotAssembler()
        _ = try assembler.add(chunks[0])
        #expect(throws: RaftWireCodec.Invalid(reason: "chunk at offset 200, expected 100")) { try assembler.add(chunks[2]) }
        // After a discard, only a first chunk starts over.
        #expect(throws: RaftWireCodec.Invalid.self) { try assembler.add(chunks[1]) }
        _ = try assembler.add(chunks[0])
        _ = try assembler.add(chunks[1])
        #expect(try assembler.add(chunks[2]) == message)

        var small = SnapshotAssembler(maxSize: 200)
        #expect(throws: RaftWireCodec.Invalid(reason: "snapshot of 300 bytes exceeds the 200-byte limit")) { try small.add(chunks[0]) }
    }

    @Test func malformedMessagesAreRefusedWithAReason() {
        let base = Flotilla_V1_RaftMessage.with {
            $0.kind = .append
            $0.from = "coord-1"
            $0.to = "coord-2"
            $0.term = 3
            $0.index = 10
        }
        var unknown = base
        unknown.kind = .unspecified
        #expect(throws: RaftWireCodec.Invalid.self) { try RaftWireCodec.decode(unknown) }
        var anonymous = base
        anonymous.from = ""
        #expect(throws: RaftWireCodec.Invalid(reason: "from and to must name members")) { try RaftWireCodec.decode(anonymous) }
        var noPayload = base
        noPayload.entries = [.with { $0.index = 11; $0.term = 3 }]
        #expect(throws: RaftWireCodec.Invalid(reason: "entry 11 has no payload")) { try RaftWireCodec.decode(noPayload) }
        var gap = base
        gap.entries = [.with { $0.index = 12; $0.term = 3; $0.command = Data([1]) }]
        #expect(throws: RaftWireCodec.Invalid(reason: "entry 0 has index 12, expected 11")) { try RaftWireCodec.decode(gap) }
        var twice = base
        twice.entries = [.with { $0.index = 11; $0.term = 3; $0.membership = .with { $0.voters = ["a", "a"] } }]
        #expect(throws: RaftWireCodec.Invalid(reason: "a member is listed twice")) { try RaftWireCodec.decode(twice) }
    }
}
