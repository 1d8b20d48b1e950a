import FlotillaProto
import FlotillaRandom
import FlotillaWire
import NIOCore
import Testing

/// However the bytes of a stream are split, the decoder yields the same frames.
@Suite struct ChunkingTests {
    /// Frames of every kind, some big enough to be compressed, with stream flags and ids.
    static let frames: [Frame] = {
        var frames: [Frame] = []
        for (index, kind) in MessageKind.allCases.enumerated() {
            let flags: FrameFlags = index % 3 == 0 ? [] : index % 3 == 1 ? .response : [.response, .stream]
            frames.append(
                try! Envelope(SampleMessages.message(for: kind), correlationID: UInt64(index), flags: flags).frame())
        }
        frames.append(Frame(kind: .logEntry, correlationID: 1_000, payload: CompressionTests.text(20_000)))
        frames.append(Frame(kind: .logEntry, correlationID: 1_001, payload: CompressionTests.noise(5_000)))
        return frames + frames.reversed()
    }()

    @Test func allAtOnce() throws {
        #expect(try Wire.decode(try Wire.encode(Self.frames)) == Self.frames)
    }

    @Test func oneByteAtATime() throws {
        let bytes = try Wire.encode(Self.frames)
        #expect(try Wire.decode(bytes, chunks: Array(repeating: 1, count: bytes.readableBytes)) == Self.frames)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func randomChunkSizes(seed: UInt64) throws {
        let bytes = try Wire.encode(Self.frames)
        var random = SplitMix64(seed: seed)
        var chunks: [Int] = []
        var total = 0
        while total < bytes.readableBytes {
            // Mostly small, sometimes spanning several frames.
            let size = random.below(10) == 0 ? random.int(in: 1...30_000) : random.int(in: 1...40)
            chunks.append(size)
            total += size
        }
        #expect(try Wire.decode(bytes, chunks: chunks) == Self.frames)
    }

    @Test func chunksSplitAtEveryHeaderOffset() throws {
        let frame = try Envelope(SampleMessages.message(for: .jobEvent), correlationID: 5, flags: [.response, .stream])
            .frame()
        let bytes = try Wire.encode([frame, frame])
        for split in 1..<bytes.readableBytes {
            #expect(try Wire.decode(bytes, chunks: [split]) == [frame, frame])
        }
    }
}
