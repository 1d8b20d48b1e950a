import FlotillaProto
import FlotillaRandom
import FlotillaWire
import NIOCore
import SwiftProtobuf

/// The malformed (and some well-formed) byte streams the fuzz loop feeds the decoder,
/// derived from a corpus of valid frames so that mutations reach past the header checks.
struct WireFuzzInput {
    enum Mutation: CaseIterable {
        case intact, flipBytes, corruptHeaderField, randomHeader, truncate, corruptCompressed,
            randomBytes, randomPayload
    }

    /// One valid frame: its wire bytes and the frame they decode to.
    struct Sample {
        var bytes: [UInt8]
        var frame: Frame
        var compressed: Bool
    }

    let samples: [Sample]
    let configuration: WireConfiguration

    init(configuration: WireConfiguration) {
        self.configuration = configuration
        let encoder = FrameEncoder(configuration: configuration)
        samples = WireFuzzInput.messages().map { message, flags, id in
            // The corpus is fixed and valid: failing to encode it is a programming error.
            let frame = try! Envelope(message, correlationID: id, flags: flags).frame()
            var wire = ByteBuffer()
            try! encoder.encode(frame, into: &wire)
            return Sample(
                bytes: Array(wire.readableBytesView), frame: frame,
                compressed: FrameFlags(rawValue: wire.getInteger(at: 5)!).contains(.compressed))
        }
    }

    /// A stream of 1 to 4 valid frames, then the mutation; `expected` is the frames an
    /// intact stream must decode to (nil when mutated).
    func make(_ random: inout SplitMix64) -> (bytes: [UInt8], expected: [Frame]?) {
        var picked = (0..<random.int(in: 1...4)).map { _ in samples[random.below(samples.count)] }
        var bytes = picked.flatMap(\.bytes)
        switch Mutation.allCases[random.below(Mutation.allCases.count)] {
        case .intact:
            return (bytes, picked.map(\.frame))
        case .flipBytes:
            for _ in 0..<random.int(in: 1...4) {
                bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8)) | random.byte()
            }
        case .corruptHeaderField:
            corruptHeader(&bytes, at: headerOffset(of: picked, index: random.below(picked.count)), &random)
        case .randomHeader:
            bytes = (0..<FrameHeader.size).map { _ in random.byte() }
            bytes[4] = random.below(4) == 0 ? random.byte() : FrameHeader.currentVersion
            let length = random.below(4) == 0 ? Int(random.next() & 0xFFFF_FFFF) : random.below(300)
            bytes.replaceSubrange(0..<4, with: bigEndian(UInt32(length)))
            bytes += (0..<min(length, random.below(320))).map { _ in random.byte() }
        case .truncate:
            bytes.removeLast(random.int(in: 1...bytes.count))
        case .corruptCompressed:
            let compressed = samples.filter(\.compressed)
            picked = [compressed[random.below(compressed.count)]]
            bytes = picked[0].bytes
            corruptBlock(&bytes, &random)
        case .randomBytes:
            bytes = (0..<random.below(257)).map { _ in random.byte() }
        case .randomPayload:
            // Correct framing around bytes that are not the kind's protobuf message.
            let kind = MessageKind.allCases[random.below(MessageKind.allCases.count)]
            let payload = (0..<random.below(200)).map { _ in random.byte() }
            var buffer = ByteBuffer()
            buffer.writeFrameHeader(
                FrameHeader(length: UInt32(payload.count), flags: [], kind: kind.rawValue, correlationID: random.next())
            )
            bytes = Array(buffer.readableBytesView) + payload
        }
        return (bytes, nil)
    }

    private func headerOffset(of picked: [Sample], index: Int) -> Int {
        picked[..<index].reduce(0) { $0 + $1.bytes.count }
    }

    private func corruptHeader(_ bytes: inout [UInt8], at offset: Int, _ random: inout SplitMix64) {
        switch random.below(5) {
        case 0:  // length: huge, past the limit, off by a little, or anything
            let choices: [UInt32] = [
                .max, UInt32(configuration.maxFrameBytes) + 1, UInt32(random.below(64)),
                UInt32(truncatingIfNeeded: random.next()),
            ]
            bytes.replaceSubrange(offset..<offset + 4, with: bigEndian(choices[random.below(choices.count)]))
        case 1: bytes[offset + 4] = random.byte()  // version
        case 2: bytes[offset + 5] = random.byte()  // flags
        case 3:  // kind: random, or a gap next to a real one
            let kind = random.below(2) == 0 ? UInt16(truncatingIfNeeded: random.next()) : UInt16(random.below(600))
            bytes.replaceSubrange(offset + 6..<offset + 8, with: [UInt8(kind >> 8), UInt8(kind & 0xFF)])
        default:  // toggle compression on a payload that is not LZ4, or off on one that is
            bytes[offset + 5] ^= FrameFlags.compressed.rawValue
        }
    }

    /// Damages the original-size prefix or the LZ4 block of a compressed frame.
    private func corruptBlock(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let payload = FrameHeader.size
        let originalSize = Int(ByteBuffer(bytes: bytes[payload..<payload + 4]).getInteger(at: 0, as: UInt32.self)!)
        switch random.below(4) {
        case 0:  // a wrong original size: one off, zero, over the limit, or anything
            let sizes = [
                originalSize + 1, originalSize - 1, 0, configuration.maxFrameBytes + 1,
                Int(random.next() & 0xFFFF_FFFF),
            ]
            bytes.replaceSubrange(
                payload..<payload + 4, with: bigEndian(UInt32(truncatingIfNeeded: sizes[random.below(sizes.count)])))
        case 1:  // garbage inside the block
            for _ in 0..<random.int(in: 1...8) {
                bytes[random.int(in: payload + 4...bytes.count - 1)] = random.byte()
            }
        case 2:  // a block cut short, with the header's length agreeing
            let keep = random.int(in: 0...bytes.count - payload - 1)
            bytes.removeLast(bytes.count - payload - keep)
            bytes.replaceSubrange(0..<4, with: bigEndian(UInt32(keep)))
        default:  // a block with trailing junk, the header's length agreeing
            bytes += (0..<random.int(in: 1...16)).map { _ in random.byte() }
            bytes.replaceSubrange(0..<4, with: bigEndian(UInt32(bytes.count - payload)))
        }
    }

    private func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// Realistic traffic: handshake, a worker heartbeat, a job stream, and a list large
    /// enough to be compressed under the fuzz configuration.
    private static func messages() -> [(any SwiftProtobuf.Message, FrameFlags, UInt64)] {
        var hello = Flotilla_V1_Hello()
        hello.minVersion = 1
        hello.maxVersion = 1
        hello.role = .worker
        hello.name = "worker-7"
        hello.cluster = "prod"
        var heartbeat = Flotilla_V1_HeartbeatRequest()
        heartbeat.workerID = "worker-7"
        heartbeat.freeGpus = 3
        heartbeat.running = [
            Flotilla_V1_RunningAttempt.with {
                $0.jobID = "job-1"
                $0.step = 30
                $0.totalSteps = 50
            }
        ]
        var event = Flotilla_V1_JobEvent()
        event.jobID = "job-1"
        event.state = .running
        event.step = 30
        event.totalSteps = 50
        var list = Flotilla_V1_ListJobsResponse()
        list.jobs = (0..<4).map { index in
            Flotilla_V1_Job.with {
                $0.id = "job-\(index)"
                $0.spec.model = "mochi-1"
                $0.spec.params = ["prompt": "a red fox running through snow \(index)"]
            }
        }
        var error = Flotilla_V1_Error()
        error.code = .notLeader
        error.leaderHint = "10.0.0.2:7400"
        return [
            (hello, [], 1), (heartbeat, [], 2), (event, [.response, .stream], 3),
            (Flotilla_V1_StreamEnd(), [.response], 3), (list, [.response], 4), (error, [.response], 5),
        ]
    }
}
