import FlotillaProto
import FlotillaWire
import NIOCore
import NIOEmbedded
import Testing

/// The codec as the transport installs it: ByteToMessageHandler(FrameDecoder) and
/// FrameEncoderHandler in an EmbeddedChannel.
@Suite struct PipelineTests {
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(FrameDecoder()), FrameEncoderHandler())
        return channel
    }

    @Test func framesWrittenComeOutAsHeaderThenPayloadAndDecodeBack() throws {
        let sender = try Self.channel()
        let receiver = try Self.channel()
        let frames = [
            try Envelope(SampleMessages.message(for: .submitJobRequest), correlationID: 42).frame(),
            Frame(kind: .listJobsResponse, flags: .response, correlationID: 42, payload: CompressionTests.text(10_000)),
            try Envelope(Flotilla_V1_StreamEnd(), correlationID: 43, flags: .response).frame(),
        ]
        for frame in frames { try sender.writeOutbound(frame) }
        // Two writes per frame with a payload, one for the empty StreamEnd.
        var writes: [ByteBuffer] = []
        while let buffer = try sender.readOutbound(as: ByteBuffer.self) { writes.append(buffer) }
        #expect(writes.map(\.readableBytes).enumerated().filter { $0.offset % 2 == 0 }.allSatisfy { $0.element == 16 })
        #expect(writes.count == 5)
        for buffer in writes { try receiver.writeInbound(buffer) }
        var received: [Frame] = []
        while let frame = try receiver.readInbound(as: Frame.self) { received.append(frame) }
        #expect(received == frames)
        #expect(try sender.finish().isClean)
        #expect(try receiver.finish().isClean)
    }

    @Test func aMalformedFrameFiresAWireErrorAndLaterBytesAreRefused() throws {
        let channel = try Self.channel()
        var good = try Wire.encode([try Envelope(Flotilla_V1_Ping()).frame()])
        good.writeImmutableBuffer(Wire.header(length: 0, version: 2))
        // The good frame before the bad header still arrives; then the error.
        #expect(throws: WireError.unsupportedVersion(2)) { try channel.writeInbound(good) }
        #expect(try channel.readInbound(as: Frame.self)?.kind == .ping)
        #expect(throws: ByteToMessageDecoderError.self) { try channel.writeInbound(Wire.header(length: 0)) }
        #expect(try channel.readInbound(as: Frame.self) == nil)
        // The error was delivered; closing leaves nothing behind.
        #expect(try channel.finish().isClean)
    }

    @Test func closingInsideAFrameReportsTheTruncation() throws {
        let channel = try Self.channel()
        var partial = Wire.header(length: 10)
        partial.writeBytes([1, 2, 3, 4])
        try channel.writeInbound(partial)
        #expect(try channel.readInbound(as: Frame.self) == nil)
        #expect(throws: WireError.truncatedFrame(received: 20, expected: 26)) { try channel.finish() }
    }

    @Test func closingBetweenFramesIsClean() throws {
        let channel = try Self.channel()
        try channel.writeInbound(
            try Wire.encode([try Envelope(Flotilla_V1_Ack(), correlationID: 1, flags: .response).frame()]))
        #expect(try channel.readInbound(as: Frame.self)?.kind == .ack)
        #expect(try channel.finish().isClean)
    }
}
