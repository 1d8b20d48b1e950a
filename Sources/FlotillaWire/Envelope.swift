import NIOCore
import SwiftProtobuf

/// A frame with its payload decoded: what handlers and services work with.
public struct Envelope: Sendable {
    public var kind: MessageKind
    /// `.response` and `.stream`; compression is the encoder's business.
    public var flags: FrameFlags
    public var correlationID: UInt64
    public var message: any SwiftProtobuf.Message

    /// Wraps `message`, whose kind comes from its type; a type that is not a Flotilla
    /// wire message is `unencodableMessage`.
    public init(_ message: any SwiftProtobuf.Message, correlationID: UInt64 = 0, flags: FrameFlags = [])
        throws(WireError)
    {
        guard let kind = MessageKind.of(message) else {
            throw .unencodableMessage(reason: "\(type(of: message)) has no message kind")
        }
        self.kind = kind
        self.flags = flags
        self.correlationID = correlationID
        self.message = message
    }

    /// Decodes the frame's payload as its kind's message; malformed protobuf is
    /// `undecodableMessage`. Unknown fields are kept (a newer peer's additions).
    public init(frame: Frame) throws(WireError) {
        do {
            message = try frame.kind.messageType.init(serializedBytes: ProtobufBytes(frame.payload))
        } catch {
            throw .undecodableMessage(kind: frame.kind, reason: "\(error)")
        }
        kind = frame.kind
        flags = frame.flags
        correlationID = frame.correlationID
    }

    /// Serializes the message into a frame's payload.
    ///
    /// swift-protobuf sizes the message and creates the buffer itself (with ByteBuffer's
    /// default allocator), which is what lets it write in place with no copy; `allocator`
    /// is accepted so callers can pass their channel's, and is not otherwise used.
    public func frame(allocator: ByteBufferAllocator = .init()) throws(WireError) -> Frame {
        guard MessageKind.of(message) == kind else {
            throw .unencodableMessage(reason: "\(type(of: message)) does not match kind \(kind)")
        }
        let bytes: ProtobufBytes
        do {
            bytes = try message.serializedBytes(options: Envelope.encodingOptions)
        } catch {
            throw .unencodableMessage(reason: "\(error)")
        }
        return Frame(kind: kind, flags: flags, correlationID: correlationID, payload: bytes.buffer)
    }

    /// Map entries sorted by key: equal messages give equal bytes in every process, which
    /// logs, test vectors and replication digests rely on. Costs nothing for messages without maps.
    private static let encodingOptions: BinaryEncodingOptions = {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

    /// The message as `M`, or nil when it is another type.
    public func message<M: SwiftProtobuf.Message>(as type: M.Type) -> M? {
        message as? M
    }
}
