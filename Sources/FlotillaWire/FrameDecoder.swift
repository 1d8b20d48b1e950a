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

    private enum State: Sendable {
        case waitingForHeader
        case waitingForPayload(FrameHeader, MessageKind, PartialFrameBudget.Reservation?)
    }

    public let configuration: WireConfiguration
    private let admission: PeerAdmission?
    private let budget: PartialFrameBudget?
    private var state: State = .waitingForHeader

    /// - Parameters:
    ///   - admission: on a server connection, which kinds the peer may send at full size.
    ///   - budget: the process's budget for partial large frames.
    public init(configuration: WireConfiguration = .init(), admission: PeerAdmission? = nil,
                budget: PartialFrameBudget? = nil) {
        self.configuration = configuration
        self.admission = admission
        self.budget = budget
    }

    private func limit(for kind: MessageKind, flags: FrameFlags) -> Int {
        admission?.limit(for: kind, flags: flags, configuration: configuration)
            ?? configuration.payloadLimit(for: kind, flags: flags)
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        if case .waitingForHeader = state {
            guard let header = buffer.getFrameHeader(at: buffer.readerIndex) else { return nil }
            // Validate before consuming: on error the offending header stays in the buffer.
            let kind = try header.validate(configuration)
            let limit = limit(for: kind, flags: header.flags)
            guard Int(header.length) <= limit else { throw WireError.frameTooLarge(declared: Int(header.length), limit: limit) }
            var reservation: PartialFrameBudget.Reservation?
            if let budget, Int(header.length) > PartialFrameBudget.smallFrameBytes,
               buffer.readableBytes < FrameHeader.size + Int(header.length) {
                guard let granted = budget.reserve(Int(header.length)) else {
                    throw WireError.busy(reason: "\(budget.capacity) bytes of partial large frames are already buffered")
                }
                reservation = granted
            }
            buffer.moveReaderIndex(forwardBy: FrameHeader.size)
            state = .waitingForPayload(header, kind, reservation)
        }
        // Falls through in the same call: a frame with an empty payload (StreamEnd, Ack)
        // completes without waiting for further bytes that may never come.
        guard case .waitingForPayload(let header, let kind, _) = state,
            var payload = buffer.readSlice(length: Int(header.length))
        else { return nil }
        state = .waitingForHeader
        var flags = header.flags
        // STREAM without RESPONSE must not be sent, but is not malformed: it reads as a
        // plain request or one-way message (PROTOCOL.md §3.2).
        if !flags.contains(.response) { flags.remove(.stream) }
        if flags.contains(.compressed) {
            payload = try expand(payload, limit: limit(for: kind, flags: flags))
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
        case .waitingForPayload(let header, _, _):
            throw WireError.truncatedFrame(
                received: FrameHeader.size + buffer.readableBytes,
                expected: FrameHeader.size + Int(header.length))
        }
    }

    /// Original size (u32 BE), then one LZ4 block; the size is bounded before allocating.
    private func expand(_ compressed: ByteBuffer, limit: Int) throws(WireError) -> ByteBuffer {
        var block = compressed
        guard let originalSize = block.readInteger(as: UInt32.self) else { throw .compressedPayloadTooShort }
        guard Int(originalSize) <= limit else {
            throw .decompressedSizeTooLarge(declared: Int(originalSize), limit: limit)
        }
        return try LZ4Block.decompress(block, originalSize: Int(originalSize), allocator: ByteBufferAllocator())
    }
}
