import FlotillaProto
import FlotillaRandom
import FlotillaWire
import NIOCore
import Testing

@Suite struct CompressionTests {
    /// Compressible text of exactly `count` bytes.
    static func text(_ count: Int) -> ByteBuffer {
        let line = Array("job-000123 mochi-1 RUNNING step 30/50 tenant acme\n".utf8)
        return ByteBuffer(bytes: (0..<count).map { line[$0 % line.count] })
    }

    /// Bytes LZ4 cannot shrink.
    static func noise(_ count: Int) -> ByteBuffer {
        var random = SplitMix64(seed: 99)
        return ByteBuffer(bytes: (0..<count).map { _ in random.byte() })
    }

    static func wireFlags(_ payload: ByteBuffer) throws -> (flags: FrameFlags, length: Int) {
        let (header, _) = try FrameEncoder().encode(
            Frame(kind: .logEntry, payload: payload), allocator: ByteBufferAllocator())
        let parsed = try #require(header.getFrameHeader(at: 0))
        return (parsed.flags, Int(parsed.length))
    }

    @Test(arguments: [4095, 4096, 4097, 65_536, 1 << 20])
    func compressibleFramesRoundTripAroundTheThreshold(size: Int) throws {
        let payload = Self.text(size)
        let (flags, length) = try Self.wireFlags(payload)
        #expect(flags.contains(.compressed) == (size >= 4096))
        #expect(size < 4096 ? length == size : length < size / 4)
        let frame = Frame(kind: .logEntry, correlationID: 7, payload: payload)
        #expect(try Wire.decode(try Wire.encode([frame])) == [frame])
    }

    @Test(arguments: [4096, 70_000])
    func incompressiblePayloadsAreSentAsTheyAre(size: Int) throws {
        let payload = Self.noise(size)
        let (flags, length) = try Self.wireFlags(payload)
        #expect(!flags.contains(.compressed))
        #expect(length == size)
        let frame = Frame(kind: .logEntry, payload: payload)
        #expect(try Wire.decode(try Wire.encode([frame])) == [frame])
    }

    @Test func aDecodedFrameNeverCarriesTheCompressedFlag() throws {
        let frame = Frame(kind: .listJobsResponse, flags: .response, correlationID: 1, payload: Self.text(10_000))
        let decoded = try Wire.decode(try Wire.encode([frame]))
        #expect(decoded.map(\.flags) == [.response])
    }

    @Test func blockRoundTripAndRefusals() throws {
        let allocator = ByteBufferAllocator()
        let input = Self.text(5_000)
        let block = try #require(LZ4Block.compress(input, allocator: allocator))
        #expect(try LZ4Block.decompress(block, originalSize: 5_000, allocator: allocator) == input)
        #expect(LZ4Block.compress(Self.noise(1_000), allocator: allocator) == nil)
        #expect(LZ4Block.compress(ByteBuffer(), allocator: allocator) == nil)
        // The declared size must be exact, both ways; garbage and empty blocks are corrupt.
        for size in [4_999, 5_001, 0] {
            #expect(throws: WireError.corruptCompressedPayload) {
                try LZ4Block.decompress(block, originalSize: size, allocator: allocator)
            }
        }
        #expect(throws: WireError.corruptCompressedPayload) {
            try LZ4Block.decompress(Self.noise(64), originalSize: 5_000, allocator: allocator)
        }
        #expect(throws: WireError.corruptCompressedPayload) {
            try LZ4Block.decompress(ByteBuffer(), originalSize: 10, allocator: allocator)
        }
    }

    @Test func compressedFrameErrors() throws {
        var block = try #require(LZ4Block.compress(Self.text(5_000), allocator: ByteBufferAllocator()))
        func frame(originalSize: UInt32, block: ByteBuffer) -> ByteBuffer {
            var bytes = Wire.header(
                length: UInt32(4 + block.readableBytes), flags: 0x01, kind: MessageKind.logEntry.rawValue)
            bytes.writeInteger(originalSize)
            bytes.writeImmutableBuffer(block)
            return bytes
        }
        #expect(try Wire.decode(frame(originalSize: 5_000, block: block)).first?.payload == Self.text(5_000))
        #expect(
            Wire.error(decoding: frame(originalSize: 5_001, block: block)) as? WireError == .corruptCompressedPayload)
        // Refused from the size prefix alone, before anything is allocated or decompressed.
        #expect(
            Wire.error(decoding: frame(originalSize: 16 << 20 + 1, block: block)) as? WireError
                == .decompressedSizeTooLarge(declared: 16 << 20 + 1, limit: 16 << 20))
        block.moveWriterIndex(to: block.writerIndex - 10)
        #expect(
            Wire.error(decoding: frame(originalSize: 5_000, block: block)) as? WireError == .corruptCompressedPayload)
        // A compressed payload without room for its size prefix is refused at the header.
        var short = Wire.header(length: 3, flags: 0x01)
        short.writeBytes([0, 0, 1])
        #expect(Wire.error(decoding: short) as? WireError == .compressedPayloadTooShort)
    }
}
