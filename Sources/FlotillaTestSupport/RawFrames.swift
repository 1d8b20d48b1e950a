import FlotillaTransport
import FlotillaWire
import NIOCore

/// Hand-made frames for attacks (the hostile-peer test and `flotilla-bench attacks`): bytes written straight into a connection's TLS layer,
/// under the frame encoder, so they can say whatever a hostile peer would.
public enum RawFrames {
    /// A 16-byte header (PROTOCOL.md §3.1).
    public static func header(length: Int, flags: UInt8, kind: UInt16, correlationID: UInt64) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(length))
        buffer.writeInteger(UInt8(1))
        buffer.writeInteger(flags)
        buffer.writeInteger(kind)
        buffer.writeInteger(correlationID)
        return Array(buffer.readableBytesView)
    }

    /// A compressed ListJobsRequest whose `states` are `count` packed enum values: about
    /// 64 KiB on the wire for 16 MiB decompressed, and far more once decoded.
    public static func amplifyingListJobs(count: Int, correlationID: UInt64) -> [UInt8] {
        var payload = ByteBuffer()
        payload.writeInteger(UInt8(0x0a))  // field 1, length-delimited (packed)
        var length = count
        while length >= 0x80 {
            payload.writeInteger(UInt8(length & 0x7f | 0x80))
            length >>= 7
        }
        payload.writeInteger(UInt8(length))
        payload.writeRepeatingByte(1, count: count)  // JOB_STATE_QUEUED
        let original = payload.readableBytes
        let block = LZ4Block.compress(payload, allocator: ByteBufferAllocator())!
        var body = ByteBuffer()
        body.writeInteger(UInt32(original))
        body.writeImmutableBuffer(block)
        return header(length: body.readableBytes, flags: 0x01, kind: MessageKind.listJobsRequest.rawValue,
                      correlationID: correlationID) + Array(body.readableBytesView)
    }

    /// An uncompressed frame of `kind` with `payload`.
    public static func frame(kind: MessageKind, correlationID: UInt64, payload: [UInt8]) -> [UInt8] {
        header(length: payload.count, flags: 0, kind: kind.rawValue, correlationID: correlationID) + payload
    }

    /// Writes `bytes` into the connection below its frame encoder (TLS still applies).
    public static func send(_ bytes: [UInt8], on connection: FlotillaConnection) async throws {
        let channel = connection.channel
        try await channel.eventLoop.flatSubmit {
            do {
                let context = try channel.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<FrameDecoder>.self)
                return context.writeAndFlush(NIOAny(channel.allocator.buffer(bytes: bytes)))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }
}
