import NIOCore

/// One decoded frame: the header's meaning plus the uncompressed protobuf payload.
public struct Frame: Sendable, Hashable {
    public var kind: MessageKind
    /// `.response` and `.stream` only; compression is a property of the bytes on the wire,
    /// decided by the encoder, so `.compressed` is never set on a decoded frame.
    public var flags: FrameFlags
    /// Pairs responses and stream items with their request; 0 for one-way messages.
    public var correlationID: UInt64
    /// The protobuf encoding of a message of type `kind.messageType`.
    public var payload: ByteBuffer

    public init(kind: MessageKind, flags: FrameFlags = [], correlationID: UInt64 = 0, payload: ByteBuffer) {
        self.kind = kind
        self.flags = flags
        self.correlationID = correlationID
        self.payload = payload
    }
}
