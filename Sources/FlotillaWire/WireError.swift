/// Why bytes could not become a frame, or a frame a message (or the reverse).
/// Every failure of the codec is one of these; after one the stream's framing is lost
/// and the connection should be closed.
public enum WireError: Error, Hashable, CustomStringConvertible {
    /// The header declares more payload bytes than the configured maximum.
    case frameTooLarge(declared: Int, limit: Int)
    case unsupportedVersion(UInt8)
    case unknownKind(UInt16)
    /// The flags byte has a bit version 1 does not define (the raw byte).
    case invalidFlags(UInt8)
    /// A compressed payload shorter than its 4-byte original size.
    case compressedPayloadTooShort
    /// A compressed payload claims to expand beyond the configured maximum.
    case decompressedSizeTooLarge(declared: Int, limit: Int)
    /// The LZ4 block is malformed or does not expand to exactly the declared size.
    case corruptCompressedPayload
    /// The stream ended inside a frame: `received` of its `expected` bytes arrived
    /// (`expected` is the header size while the header itself is incomplete).
    case truncatedFrame(received: Int, expected: Int)
    /// The payload is not a valid protobuf encoding of the kind's message.
    case undecodableMessage(kind: MessageKind, reason: String)
    /// The message has no kind or could not be serialized.
    case unencodableMessage(reason: String)
    /// The process's budget for partial large frames is spent: try again later.
    case busy(reason: String)

    public var description: String {
        switch self {
        case .busy(let reason):
            return "server busy: \(reason); retry later"
        case .frameTooLarge(let declared, let limit):
            return "frame payload of \(declared) bytes exceeds the limit of \(limit) bytes"
        case .unsupportedVersion(let version):
            return "unsupported frame version \(version) (this side speaks \(FrameHeader.currentVersion))"
        case .unknownKind(let kind):
            return "unknown message kind \(kind)"
        case .invalidFlags(let flags):
            return "invalid frame flags 0x\(String(flags, radix: 16))"
        case .compressedPayloadTooShort:
            return "compressed payload is shorter than its 4-byte size prefix"
        case .decompressedSizeTooLarge(let declared, let limit):
            return "compressed payload expands to \(declared) bytes, over the limit of \(limit) bytes"
        case .corruptCompressedPayload:
            return "compressed payload is corrupt or does not match its declared size"
        case .truncatedFrame(let received, let expected):
            return "stream ended inside a frame: \(received) of \(expected) bytes"
        case .undecodableMessage(let kind, let reason):
            return "payload is not a valid \(kind) message: \(reason)"
        case .unencodableMessage(let reason):
            return "message cannot be encoded: \(reason)"
        }
    }
}
