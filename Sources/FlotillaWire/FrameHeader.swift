import NIOCore

/// The fixed 16-byte header in front of every payload, all integers big-endian:
/// length u32 | version u8 | flags u8 | kind u16 | correlation id u64.
/// Fields are raw here; `validate(_:)` decides whether a peer's header is acceptable.
public struct FrameHeader: Sendable, Hashable {
    public static let size = 16
    public static let currentVersion: UInt8 = 1

    /// Payload bytes on the wire after the header (compressed size when compressed).
    public var length: UInt32
    public var version: UInt8
    public var flags: FrameFlags
    public var kind: UInt16
    public var correlationID: UInt64

    public init(
        length: UInt32, version: UInt8 = FrameHeader.currentVersion, flags: FrameFlags,
        kind: UInt16, correlationID: UInt64
    ) {
        self.length = length
        self.version = version
        self.flags = flags
        self.kind = kind
        self.correlationID = correlationID
    }

    /// Checks, in this order, version, flags, kind and length against `configuration`
    /// and returns the kind. Everything is decided from the header alone, so a hostile
    /// length is refused before a byte of payload is awaited or allocated.
    public func validate(_ configuration: WireConfiguration) throws(WireError) -> MessageKind {
        guard version == FrameHeader.currentVersion else { throw .unsupportedVersion(version) }
        guard FrameFlags.known.isSuperset(of: flags) else { throw .invalidFlags(flags.rawValue) }
        guard let messageKind = MessageKind(rawValue: kind) else { throw .unknownKind(kind) }
        guard Int(length) <= configuration.maxFrameBytes else {
            throw .frameTooLarge(declared: Int(length), limit: configuration.maxFrameBytes)
        }
        guard !flags.contains(.compressed) || length >= 4 else { throw .compressedPayloadTooShort }
        return messageKind
    }
}

extension ByteBuffer {
    /// The header at `index`, or nil when fewer than 16 bytes are readable there.
    public func getFrameHeader(at index: Int) -> FrameHeader? {
        guard index >= readerIndex, index + FrameHeader.size <= writerIndex,
            let length = getInteger(at: index, as: UInt32.self),
            let version = getInteger(at: index + 4, as: UInt8.self),
            let flags = getInteger(at: index + 5, as: UInt8.self),
            let kind = getInteger(at: index + 6, as: UInt16.self),
            let correlationID = getInteger(at: index + 8, as: UInt64.self)
        else { return nil }
        return FrameHeader(
            length: length, version: version, flags: FrameFlags(rawValue: flags),
            kind: kind, correlationID: correlationID)
    }

    /// Reads a header, or returns nil and reads nothing when fewer than 16 bytes are readable.
    public mutating func readFrameHeader() -> FrameHeader? {
        guard let header = getFrameHeader(at: readerIndex) else { return nil }
        moveReaderIndex(forwardBy: FrameHeader.size)
        return header
    }

    @discardableResult
    public mutating func writeFrameHeader(_ header: FrameHeader) -> Int {
        writeMultipleIntegers(
            header.length, header.version, header.flags.rawValue, header.kind, header.correlationID)
    }
}
