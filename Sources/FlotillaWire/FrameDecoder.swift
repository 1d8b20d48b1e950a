import NIOCore

/// Cuts a byte stream into frames. Works inside a pipeline as
/// `ByteToMessageHandler(FrameDecoder())` and outside one through
/// `NIOSingleStepByteToMessageProcessor` (replaying a log file, fuzzing, benchmarks).
///
/// The header is validated as soon as its 16 bytes are in, so a hostile length is refused
/// before anything waits for or allocates its payload. Uncompressed payloads are slices of
/// the input buffer, never copies.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    private enum State: Sendable, Hashable {
        case waitingForHeader
        case waitingForPayload(FrameHeader, MessageKind)
    }

    public let configuration: WireConfiguration
    private var state: State = .waitingForHeader

    public init(configuration: WireConfiguration = .init()) {
        self.configuration = configuration
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        if case .waitingForHeader = state {
            guard let header = buffer.getFrameHeader(at: buffer.readerIndex) else { return nil }
            // Validate before consuming: on error the offending header stays in the buffer.
            let kind = try header.validate(configuration)
            buffer.moveReaderIndex(forwardBy: FrameHeader.size)
            state = .waitingForPayload(header, kind)
        }
        // Falls through in the same call: a frame with an empty payload (StreamEnd, Ack)
        // completes without waiting for further bytes that may never come.
        guard case .waitingForPayload(let header, let kind) = state,
            var payload = buffer.readSlice(length: Int(header.length))
        else { return nil }
        state = .waitingForHeader
        var flags = header.flags
        // STREAM without RESPONSE must not be sent, but is not malformed: it reads as a
        // plain request or one-way message (PROTOCOL.md §3.2).
        if !flags.contains(.response) { flags.remove(.stream) }
        if flags.contains(.compressed) {
            payload = try expand(payload)
            flags.remove(.compressed)
        }
        return Frame(kind: kind, flags: flags, correlationID: header.correlationID, payload: payload)
    }

    /// At end of stream, bytes of an incomplete frame are an error rather than silently
    /// dropped: a peer closed mid-frame, or a log's last record is torn.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        guard seenEOF else { return nil }
        switch state {
        case .waitingForHeader where buffer.readableBytes > 0:
            throw WireError.truncatedFrame(received: buffer.readableBytes, expected: FrameHeader.size)
        case .waitingForHeader:
            return nil
        case .waitingForPayload(let header, _):
            throw WireError.truncatedFrame(
                received: FrameHeader.size + buffer.readableBytes,
                expected: FrameHeader.size + Int(header.length))
        }
    }

    /// Original size (u32 BE), then one LZ4 block; the size is bounded before allocating.
    private func expand(_ compressed: ByteBuffer) throws(WireError) -> ByteBuffer {
        var block = compressed
        guard let originalSize = block.readInteger(as: UInt32.self) else { throw .compressedPayloadTooShort }
        guard Int(originalSize) <= configuration.maxFrameBytes else {
            throw .decompressedSizeTooLarge(declared: Int(originalSize), limit: configuration.maxFrameBytes)
        }
        return try LZ4Block.decompress(block, originalSize: Int(originalSize), allocator: ByteBufferAllocator())
    }
}
