import FlotillaRaft

/// How Raft entries and snapshots are laid out in the durable log's records. An entry's
/// payload is one tag byte, then:
/// - 0 `empty`: nothing;
/// - 1 `command`: the command's bytes;
/// - 2 `membership`: the membership (below).
///
/// A snapshot's data is a 4-byte big-endian length, the membership it was taken under, then
/// the state machine's own bytes. A membership is a 2-byte count of voters, each name as one
/// length byte and UTF-8, then the same for learners.
public enum RaftRecordCodec {
    public struct Malformed: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "malformed Raft record: \(reason)" }
    }

    public static func encode(_ payload: Entry.Payload) -> [UInt8] {
        switch payload {
        case .empty: return [0]
        case .command(let bytes): return [1] + bytes
        case .membership(let membership): return [2] + encode(membership)
        }
    }

    public static func decodePayload(_ bytes: [UInt8]) throws(Malformed) -> Entry.Payload {
        guard let tag = bytes.first else { throw Malformed(reason: "empty payload") }
        switch tag {
        case 0: return .empty
        case 1: return .command(Array(bytes.dropFirst()))
        case 2:
            var reader = Reader(bytes: bytes, offset: 1)
            let membership = try reader.membership()
            guard reader.offset == bytes.count else { throw Malformed(reason: "bytes after the membership") }
            return .membership(membership)
        default: throw Malformed(reason: "unknown entry tag \(tag)")
        }
    }

    public static func encode(_ membership: Membership) -> [UInt8] {
        var bytes: [UInt8] = []
        for names in [membership.voters, membership.learners] {
            bytes += [UInt8(names.count >> 8), UInt8(names.count & 0xFF)]
            for name in names {
                let utf8 = Array(name.utf8.prefix(255))
                bytes.append(UInt8(utf8.count))
                bytes += utf8
            }
        }
        return bytes
    }

    public static func encodeSnapshotData(membership: Membership, state: [UInt8]) -> [UInt8] {
        let encoded = encode(membership)
        let count = UInt32(encoded.count)
        return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + encoded + state
    }

    public static func decodeSnapshotData(_ bytes: [UInt8]) throws(Malformed) -> (membership: Membership, state: [UInt8]) {
        guard bytes.count >= 4 else { throw Malformed(reason: "snapshot shorter than its header") }
        let count = bytes[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard count <= bytes.count - 4 else { throw Malformed(reason: "snapshot membership of \(count) bytes in \(bytes.count - 4)") }
        var reader = Reader(bytes: Array(bytes[4..<(4 + count)]), offset: 0)
        let membership = try reader.membership()
        guard reader.offset == count else { throw Malformed(reason: "bytes after the snapshot's membership") }
        return (membership, Array(bytes[(4 + count)...]))
    }

    struct Reader {
        var bytes: [UInt8]
        var offset: Int

        mutating func byte() throws(Malformed) -> UInt8 {
            guard offset < bytes.count else { throw Malformed(reason: "truncated membership") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func names() throws(Malformed) -> [String] {
            let count = Int(try byte()) << 8 | Int(try byte())
            var names: [String] = []
            for _ in 0..<count {
                let length = Int(try byte())
                guard offset + length <= bytes.count else { throw Malformed(reason: "truncated member name") }
                names.append(String(decoding: bytes[offset..<(offset + length)], as: UTF8.self))
                offset += length
            }
            return names
        }

        mutating func membership() throws(Malformed) -> Membership {
            let voters = try names()
            let learners = try names()
            return Membership(voters: voters, learners: learners)
        }
    }
}
