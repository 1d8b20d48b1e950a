import NIOCore

/// Turns frames into wire bytes: header, then the payload, LZ4-compressed when it is at
/// least `compressionThreshold` bytes and compression makes it smaller.
public struct FrameEncoder: Sendable {
    public let configuration: WireConfiguration

    public init(configuration: WireConfiguration = .init()) {
        self.configuration = configuration
    }

    /// The header and the payload as two buffers, so an uncompressed payload goes out as
    /// the very buffer the frame holds, never copied.
    public func encode(
        _ frame: Frame, allocator: ByteBufferAllocator
    ) throws(WireError) -> (header: ByteBuffer, payload: ByteBuffer) {
        let (header, payload) = try prepare(frame, allocator: allocator)
        var headerBuffer = allocator.buffer(capacity: FrameHeader.size)
        headerBuffer.writeFrameHeader(header)
        return (headerBuffer, payload)
    }

    /// Appends the whole frame to `buffer` (one copy of the payload; for files and batching).
    public func encode(_ frame: Frame, into buffer: inout ByteBuffer) throws(WireError) {
        var (header, payload) = try prepare(frame, allocator: ByteBufferAllocator())
        buffer.reserveCapacity(minimumWritableBytes: FrameHeader.size + payload.readableBytes)
        buffer.writeFrameHeader(header)
        buffer.writeBuffer(&payload)
    }

    /// The header to send and the payload bytes it describes.
    private func prepare(
        _ frame: Frame, allocator: ByteBufferAllocator
    ) throws(WireError) -> (FrameHeader, ByteBuffer) {
        // The caller's `.compressed` bit means nothing: the encoder alone decides it.
        var flags = frame.flags.subtracting(.compressed)
        // Only known bits, and STREAM only on a response (PROTOCOL.md §3.2).
        guard FrameFlags.known.isSuperset(of: flags), flags.contains(.response) || !flags.contains(.stream) else {
            throw .invalidFlags(frame.flags.rawValue)
        }
        let size = frame.payload.readableBytes
        // Refuse what the peer would refuse (and what the u32 length cannot say); a payload
        // within the limit stays within it compressed, as that form is only kept when smaller.
        let limit = min(configuration.maxFrameBytes, Int(UInt32.max))
        guard size <= limit else { throw .frameTooLarge(declared: size, limit: limit) }
        var payload = frame.payload
        if size >= configuration.compressionThreshold, let compressed = compress(frame.payload, allocator: allocator) {
            payload = compressed
            flags.insert(.compressed)
        }
        let header = FrameHeader(
            length: UInt32(payload.readableBytes), flags: flags, kind: frame.kind.rawValue,
            correlationID: frame.correlationID)
        return (header, payload)
    }

    /// u32 original size + LZ4 block, or nil when that is not smaller than the original.
    private func compress(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard let bound = LZ4Block.bound(payload.readableBytes) else { return nil }
        var output = allocator.buffer(capacity: 4 + bound)
        output.writeInteger(UInt32(payload.readableBytes))
        guard LZ4Block.append(payload, to: &output), output.readableBytes < payload.readableBytes else {
            return nil
        }
        return output
    }
}
