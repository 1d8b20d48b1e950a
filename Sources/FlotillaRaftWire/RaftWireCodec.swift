import FlotillaProto
import FlotillaRaft
import Foundation

/// Raft messages as they travel between coordinators (PROTOCOL.md §4.5): one RaftMessage
/// frame per core message, except a snapshot, which goes as RaftSnapshotChunk frames of at
/// most `chunkSize` bytes.
public enum RaftWireCodec {
    public static let chunkSize = 1 << 20

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
        public var description: String { "invalid Raft message: \(reason)" }
    }

    /// The frames one core message becomes.
    public enum Frames: Equatable {
        case message(Flotilla_V1_RaftMessage)
        case snapshot([Flotilla_V1_RaftSnapshotChunk])
    }

    public static func encode(_ message: Message, chunkSize: Int = chunkSize) -> Frames {
        if message.kind == .snapshot, let snapshot = message.snapshot {
            return .snapshot(chunks(of: snapshot, from: message.from, to: message.to, term: message.term, size: chunkSize))
        }
        return .message(Flotilla_V1_RaftMessage.with {
            $0.kind = wireKind(message.kind)
            $0.from = message.from
            $0.to = message.to
            $0.term = message.term
            $0.logTerm = message.logTerm
            $0.index = message.index
            $0.entries = message.entries.map(encode)
            $0.commit = message.commit
            $0.reject = message.reject
            $0.rejectHint = message.rejectHint
            $0.context = message.context
            $0.transfer = message.transfer
        })
    }

    public static func decode(_ wire: Flotilla_V1_RaftMessage) throws(Invalid) -> Message {
        guard let kind = coreKind(wire.kind) else { throw Invalid(reason: "kind \(wire.kind.rawValue) is not a Raft message kind") }
        guard !wire.from.isEmpty, !wire.to.isEmpty else { throw Invalid(reason: "from and to must name members") }
        guard wire.term > 0 else { throw Invalid(reason: "term 0") }
        var message = Message(kind: kind, from: wire.from, to: wire.to, term: wire.term)
        message.logTerm = wire.logTerm
        message.index = wire.index
        message.entries = try wire.entries.map(decode)
        for (position, entry) in message.entries.enumerated() where entry.index != wire.index + 1 + UInt64(position) {
            throw Invalid(reason: "entry \(position) has index \(entry.index), expected \(wire.index + 1 + UInt64(position))")
        }
        message.commit = wire.commit
        message.reject = wire.reject
        message.rejectHint = wire.rejectHint
        message.context = wire.context
        message.transfer = wire.transfer
        return message
    }

    static func encode(_ entry: Entry) -> Flotilla_V1_RaftEntry {
        Flotilla_V1_RaftEntry.with {
            $0.index = entry.index
            $0.term = entry.term
            switch entry.payload {
            case .empty: $0.empty = Flotilla_V1_RaftEmpty()
            case .command(let bytes): $0.command = Data(bytes)
            case .membership(let membership): $0.membership = encode(membership)
            }
        }
    }

    static func decode(_ wire: Flotilla_V1_RaftEntry) throws(Invalid) -> Entry {
        let payload: Entry.Payload
        switch wire.payload {
        case .empty?: payload = .empty
        case .command(let data)?: payload = .command(Array(data))
        case .membership(let membership)?: payload = .membership(try decode(membership))
        case nil: throw Invalid(reason: "entry \(wire.index) has no payload")
        }
        guard wire.term > 0, wire.index > 0 else { throw Invalid(reason: "entry with index or term 0") }
        return Entry(index: wire.index, term: wire.term, payload: payload)
    }

    static func encode(_ membership: Membership) -> Flotilla_V1_RaftMembership {
        Flotilla_V1_RaftMembership.with {
            $0.voters = membership.voters
            $0.learners = membership.learners
        }
    }

    static func decode(_ wire: Flotilla_V1_RaftMembership) throws(Invalid) -> Membership {
        guard !wire.voters.isEmpty else { throw Invalid(reason: "a membership with no voter") }
        guard (wire.voters + wire.learners).allSatisfy({ !$0.isEmpty && $0.utf8.count <= 255 }) else {
            throw Invalid(reason: "member names must be 1 to 255 bytes")
        }
        guard Set(wire.voters + wire.learners).count == wire.voters.count + wire.learners.count else {
            throw Invalid(reason: "a member is listed twice")
        }
        return Membership(voters: wire.voters, learners: wire.learners)
    }

    static func chunks(of snapshot: Snapshot, from: NodeID, to: NodeID, term: UInt64, size: Int) -> [Flotilla_V1_RaftSnapshotChunk] {
        var chunks: [Flotilla_V1_RaftSnapshotChunk] = []
        var offset = 0
        repeat {
            let end = min(offset + size, snapshot.data.count)
            chunks.append(Flotilla_V1_RaftSnapshotChunk.with {
                $0.from = from
                $0.to = to
                $0.term = term
                $0.index = snapshot.index
                $0.snapshotTerm = snapshot.term
                $0.membership = encode(snapshot.membership)
                $0.totalSize = UInt64(snapshot.data.count)
                $0.offset = UInt64(offset)
                $0.data = Data(snapshot.data[offset..<end])
                $0.done = end == snapshot.data.count
            })
            offset = end
        } while offset < snapshot.data.count
        return chunks
    }

    static func wireKind(_ kind: Message.Kind) -> Flotilla_V1_RaftMessage.Kind {
        switch kind {
        case .preVote: return .preVote
        case .preVoteResponse: return .preVoteResponse
        case .vote: return .vote
        case .voteResponse: return .voteResponse
        case .append: return .append
        case .appendResponse: return .appendResponse
        case .heartbeat: return .heartbeat
        case .heartbeatResponse: return .heartbeatResponse
        case .timeoutNow: return .timeoutNow
        case .readIndex: return .readIndex
        case .readIndexResponse: return .readIndexResponse
        case .snapshot: return .unspecified  // sent as chunks, never as a RaftMessage
        }
    }

    static func coreKind(_ kind: Flotilla_V1_RaftMessage.Kind) -> Message.Kind? {
        switch kind {
        case .preVote: return .preVote
        case .preVoteResponse: return .preVoteResponse
        case .vote: return .vote
        case .voteResponse: return .voteResponse
        case .append: return .append
        case .appendResponse: return .appendResponse
        case .heartbeat: return .heartbeat
        case .heartbeatResponse: return .heartbeatResponse
        case .timeoutNow: return .timeoutNow
        case .readIndex: return .readIndex
        case .readIndexResponse: return .readIndexResponse
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}
