import FlotillaRandom
import FlotillaWire
import NIOCore

/// A seeded malformed-input loop over the frame decoder and message decoding. The tests
/// run thousands of cases; `flotilla-bench fuzz` runs millions. The same seed replays the
/// same cases, so any failure is reproducible from the seed alone.
public enum WireFuzz {
    /// Small limits so that oversized declarations are common and nothing large is allocated.
    public static let configuration = WireConfiguration(maxFrameBytes: 64 << 10, compressionThreshold: 64)

    public struct Report: Sendable, Hashable {
        public var cases = 0
        /// Cases that ended in a WireError, as a connection would close.
        public var errors = 0
        /// Frames decoded (and their messages parsed) before any error.
        public var frames = 0
        /// How many cases ended in each error, by case name (e.g. "unknownKind").
        public var errorsByName: [String: Int] = [:]
        /// Broken contract: an error that is not a WireError, or an intact stream that did
        /// not decode to exactly its frames. Each entry names the case index.
        public var failures: [String] = []
    }

    /// Runs `cases` cases and counts those rejected with a WireError. A broken contract is
    /// a decoder bug: it stops the process with the seed and case, for the benchmark.
    public static func run(seed: UInt64, cases: Int) -> (cases: Int, errors: Int) {
        let report = self.report(seed: seed, cases: cases)
        precondition(report.failures.isEmpty, "wire fuzz seed \(seed): \(report.failures.prefix(5))")
        return (report.cases, report.errors)
    }

    /// Runs `cases` cases and reports what happened, failures included, without trapping.
    public static func report(seed: UInt64, cases: Int) -> Report {
        var random = SplitMix64(seed: seed)
        let input = WireFuzzInput(configuration: configuration)
        var report = Report()
        for index in 0..<cases {
            let (bytes, expected) = input.make(&random)
            report.cases += 1
            var frames: [Frame] = []
            do {
                try feed(bytes, chunking: &random) { frame in
                    frames.append(frame)
                    _ = try Envelope(frame: frame)
                }
                report.frames += frames.count
                if let expected, expected != frames {
                    report.failures.append(
                        "case \(index): intact stream decoded to \(frames.count) of \(expected.count) frames")
                }
            } catch let error as WireError {
                report.frames += frames.count
                report.errors += 1
                report.errorsByName[name(of: error), default: 0] += 1
                if expected != nil {
                    report.failures.append("case \(index): intact stream rejected: \(error)")
                }
            } catch {
                report.failures.append("case \(index): not a WireError: \(error)")
            }
        }
        return report
    }

    /// Feeds `bytes` through a fresh decoder one byte at a time, in random sizes, or all at
    /// once, then signals end of stream.
    private static func feed(
        _ bytes: [UInt8], chunking random: inout SplitMix64, _ receive: (Frame) throws -> Void
    ) throws {
        let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(configuration: configuration))
        let whole = ByteBuffer(bytes: bytes)
        let mode = random.below(3)
        var offset = 0
        while offset < bytes.count {
            let size: Int
            switch mode {
            // Byte by byte over the first headers only: a long payload fed one byte at a time
            // costs thousands of calls and finds nothing new after its header.
            case 0: size = offset < 256 ? 1 : random.int(in: 1...512)
            case 1: size = random.int(in: 1...64)
            default: size = bytes.count
            }
            let chunk = whole.getSlice(at: offset, length: min(size, bytes.count - offset))!
            try processor.process(buffer: chunk, receive)
            offset += chunk.readableBytes
        }
        try processor.finishProcessing(seenEOF: true, receive)
    }

    private static func name(of error: WireError) -> String {
        switch error {
        case .frameTooLarge: return "frameTooLarge"
        case .unsupportedVersion: return "unsupportedVersion"
        case .unknownKind: return "unknownKind"
        case .invalidFlags: return "invalidFlags"
        case .compressedPayloadTooShort: return "compressedPayloadTooShort"
        case .decompressedSizeTooLarge: return "decompressedSizeTooLarge"
        case .corruptCompressedPayload: return "corruptCompressedPayload"
        case .truncatedFrame: return "truncatedFrame"
        case .undecodableMessage: return "undecodableMessage"
        case .unencodableMessage: return "unencodableMessage"
        case .busy: return "busy"
        }
    }
}
