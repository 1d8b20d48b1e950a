/// Requests whose top-level repeated field is bounded by count as well as by
/// bytes (PROTOCOL.md §7.3). The count is taken on the encoded payload, before
/// decoding: 2 MiB of empty `JobSpec`s is a million two-byte elements, each of
/// which would decode into a full message.
extension MessageKind {
    public var repeatedLimit: (field: Int, max: Int)? {
        switch self {
        case .submitJobsRequest: return (field: 1, max: 1_000)
        case .reportBatch: return (field: 1, max: 64)
        case .workerDirectives: return (field: 1, max: 1_000)
        default: return nil
        }
    }

    /// Why `payload` holds too many elements of the kind's bounded field, or nil.
    /// Malformed protobuf is left to the decoder, which says what is wrong.
    public func repeatedLimitProblem(in payload: UnsafeRawBufferPointer) -> String? {
        guard let limit = repeatedLimit,
              let count = ProtobufFieldCount.occurrences(of: limit.field, in: payload, stoppingAfter: limit.max),
              count > limit.max else { return nil }
        return "\(self) holds more than \(limit.max) elements in field \(limit.field)"
    }
}

/// Counts a field's occurrences at the top level of an encoded protobuf message
/// by walking tags and lengths, without decoding anything.
public enum ProtobufFieldCount {
    /// How often `field` occurs, counting no further than `limit + 1`; nil when
    /// the bytes are not well-formed (a bad varint, a length past the end, a group).
    public static func occurrences(of field: Int, in bytes: UnsafeRawBufferPointer, stoppingAfter limit: Int) -> Int? {
        var offset = 0
        var count = 0
        while offset < bytes.count {
            guard let tag = varint(bytes, &offset) else { return nil }
            if Int(truncatingIfNeeded: tag >> 3) == field {
                count += 1
                if count > limit { return count }
            }
            switch tag & 7 {
            case 0: guard varint(bytes, &offset) != nil else { return nil }
            case 1: offset += 8
            case 2:
                guard let length = varint(bytes, &offset), length <= UInt64(bytes.count - offset) else { return nil }
                offset += Int(length)
            case 5: offset += 4
            default: return nil
            }
            guard offset <= bytes.count else { return nil }
        }
        return count
    }

    private static func varint(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
