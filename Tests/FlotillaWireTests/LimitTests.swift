import FlotillaProto
import FlotillaWire
import NIOCore
import NIOEmbedded
import Testing

@Suite struct LimitTests {
    /// Only the 16 header bytes are ever given: the decoder must refuse at once rather than
    /// wait for (or reserve room for) a payload it would never accept.
    @Test(arguments: [UInt32(16 << 20) + 1, UInt32.max])
    func anOversizedLengthIsRefusedFromTheHeaderAlone(length: UInt32) {
        var decoder = FrameDecoder()
        var buffer = Wire.header(length: length)
        let capacity = buffer.capacity
        #expect(throws: WireError.frameTooLarge(declared: Int(length), limit: 16 << 20)) {
            try decoder.decode(buffer: &buffer)
        }
        // Nothing consumed, nothing grown: the offending header is still all there is.
        #expect(buffer.readableBytes == FrameHeader.size)
        #expect(buffer.capacity == capacity)
    }

    @Test func aLengthAtTheLimitIsAcceptedAndAwaited() throws {
        var decoder = FrameDecoder(configuration: WireConfiguration(maxFrameBytes: 1_000))
        var buffer = Wire.header(length: 1_000)
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeRepeatingByte(0, count: 999)
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeInteger(UInt8(0))
        // 1000 zero bytes are not a valid Ping, but they are a whole frame.
        #expect(try decoder.decode(buffer: &buffer)?.payload.readableBytes == 1_000)
    }

    @Test func theLimitIsConfigurable() {
        let configuration = WireConfiguration(maxFrameBytes: 100)
        var decoder = FrameDecoder(configuration: configuration)
        var buffer = Wire.header(length: 101)
        #expect(throws: WireError.frameTooLarge(declared: 101, limit: 100)) { try decoder.decode(buffer: &buffer) }
    }

    @Test func theEncoderRefusesWhatAPeerWouldRefuse() {
        let configuration = WireConfiguration(maxFrameBytes: 100, compressionThreshold: .max)
        let frame = Frame(kind: .logEntry, payload: ByteBuffer(repeating: 1, count: 101))
        #expect(throws: WireError.frameTooLarge(declared: 101, limit: 100)) {
            try FrameEncoder(configuration: configuration).encode(frame, allocator: ByteBufferAllocator())
        }
    }

    @Test func headerChecksRunInTheDocumentedOrder() {
        // Bad version, flags, kind and length at once: the version is reported.
        #expect(
            Wire.error(decoding: Wire.header(length: .max, version: 9, flags: 0xF0, kind: 0)) as? WireError
                == .unsupportedVersion(9))
        #expect(
            Wire.error(decoding: Wire.header(length: .max, flags: 0xF0, kind: 0)) as? WireError == .invalidFlags(0xF0))
        #expect(Wire.error(decoding: Wire.header(length: .max, kind: 0)) as? WireError == .unknownKind(0))
        #expect(
            Wire.error(decoding: Wire.header(length: .max)) as? WireError
                == .frameTooLarge(declared: Int(UInt32.max), limit: 16 << 20))
    }

    @Test func aStreamEndingInsideAFrameIsTruncated() throws {
        var partialHeader = ByteBuffer()
        partialHeader.writeRepeatingByte(0, count: 7)
        #expect(Wire.error(decoding: partialHeader) as? WireError == .truncatedFrame(received: 7, expected: 16))
        var partialPayload = Wire.header(length: 10)
        partialPayload.writeBytes([1, 2, 3])
        #expect(Wire.error(decoding: partialPayload) as? WireError == .truncatedFrame(received: 19, expected: 26))
        #expect(try Wire.decode(ByteBuffer()).isEmpty)
    }

    @Test func anUnencodableWriteFailsItsPromiseAndSendsNothing() throws {
        let channel = EmbeddedChannel(handler: FrameEncoderHandler(configuration: WireConfiguration(maxFrameBytes: 10)))
        let write = channel.writeAndFlush(Frame(kind: .logEntry, payload: ByteBuffer(repeating: 0, count: 11)))
        #expect(throws: WireError.frameTooLarge(declared: 11, limit: 10)) { try write.wait() }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(try channel.finish().isClean)
    }
}
