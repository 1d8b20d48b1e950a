import FlotillaProto
import FlotillaWire
import NIOCore
import SwiftProtobuf
import Testing

@Suite struct RoundTripTests {
    /// envelope -> frame -> bytes -> frame -> envelope, for every kind, with the payload
    /// sent as is and forced through LZ4.
    @Test(arguments: MessageKind.allCases)
    func everyKindRoundTrips(kind: MessageKind) throws {
        let message = SampleMessages.message(for: kind)
        let original = try Envelope(
            message, correlationID: 0xDEAD_BEEF_0000_0000 | UInt64(kind.rawValue), flags: .response)
        let frame = try original.frame()
        #expect(frame.kind == kind)
        for configuration in [WireConfiguration(), WireConfiguration(compressionThreshold: 0)] {
            let decoded = try Wire.decode(
                try Wire.encode([frame], configuration: configuration), configuration: configuration)
            #expect(decoded == [frame])
            let envelope = try Envelope(frame: decoded[0])
            #expect(envelope.kind == kind)
            #expect(envelope.flags == .response)
            #expect(envelope.correlationID == original.correlationID)
            #expect(envelope.message.isEqualTo(message: message))
        }
    }

    @Test func theTwoBufferFormMatchesTheSingleBufferForm() throws {
        let frame = try Envelope(SampleMessages.message(for: .jobEvent), correlationID: 9, flags: [.response, .stream])
            .frame()
        let encoder = FrameEncoder()
        var (header, payload) = try encoder.encode(frame, allocator: ByteBufferAllocator())
        var single = ByteBuffer()
        try encoder.encode(frame, into: &single)
        #expect(header.readableBytes == FrameHeader.size)
        header.writeBuffer(&payload)
        #expect(header == single)
    }

    @Test func anUncompressedPayloadIsSentAsTheSameStorage() throws {
        let frame = try Envelope(SampleMessages.message(for: .heartbeatRequest)).frame()
        let (_, payload) = try FrameEncoder().encode(frame, allocator: ByteBufferAllocator())
        let same = frame.payload.withUnsafeReadableBytes { original in
            payload.withUnsafeReadableBytes { sent in original.baseAddress == sent.baseAddress }
        }
        #expect(same)
    }

    @Test func anUncompressedPayloadIsDecodedAsASliceOfTheInput() throws {
        let frame = try Envelope(SampleMessages.message(for: .heartbeatRequest)).frame()
        var input = try Wire.encode([frame])
        var decoder = FrameDecoder()
        let decoded = try #require(try decoder.decode(buffer: &input))
        let inside = input.withVeryUnsafeBytes { storage in
            decoded.payload.withUnsafeReadableBytes { payload in
                payload.baseAddress! >= storage.baseAddress!
                    && payload.baseAddress! + payload.count <= storage.baseAddress! + storage.count
            }
        }
        #expect(inside)
    }

    @Test func headerFieldsAreBigEndianAtTheirOffsets() {
        var buffer = ByteBuffer()
        buffer.writeFrameHeader(
            FrameHeader(
                length: 0x0102_0304, flags: [.response, .stream], kind: 0x0506, correlationID: 0x0708_090A_0B0C_0D0E))
        #expect(buffer.hex == "01020304" + "01" + "06" + "0506" + "0708090a0b0c0d0e")
        #expect(buffer.readFrameHeader()?.correlationID == 0x0708_090A_0B0C_0D0E)
        #expect(buffer.readableBytes == 0)
    }

    @Test func theCompressedFlagOfACallerIsIgnoredAndUnknownFlagsAreRefused() throws {
        var frame = try Envelope(Flotilla_V1_Ack()).frame()
        frame.flags = [.compressed, .response]
        #expect(try Wire.decode(try Wire.encode([frame])).first?.flags == .response)
        frame.flags = FrameFlags(rawValue: 0x80)
        #expect(throws: WireError.invalidFlags(0x80)) { try Wire.encode([frame]) }
        frame.flags = .stream
        #expect(throws: WireError.invalidFlags(0x04)) { try Wire.encode([frame]) }
    }

    @Test func streamWithoutResponseReadsAsAPlainRequest() throws {
        var bytes = Wire.header(length: 0, flags: FrameFlags.stream.rawValue, kind: MessageKind.ack.rawValue)
        #expect(try Wire.decode(bytes).map(\.flags) == [[]])
        bytes = Wire.header(length: 0, flags: 0x06, kind: MessageKind.ack.rawValue)
        #expect(try Wire.decode(bytes).map(\.flags) == [[.response, .stream]])
    }

    @Test func emptyPayloadsCompleteWithoutWaitingForMoreBytes() throws {
        let frame = try Envelope(Flotilla_V1_StreamEnd(), correlationID: 3, flags: .response).frame()
        var input = try Wire.encode([frame])
        var decoder = FrameDecoder()
        #expect(try decoder.decode(buffer: &input) == frame)
    }
}
