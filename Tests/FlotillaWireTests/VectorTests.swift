import FlotillaWire
import Foundation
import NIOCore
import SwiftProtobuf
import Testing

/// proto-spec/vectors/frames.hex decoded byte for byte: what another implementation of
/// the protocol must agree with.
@Suite struct VectorTests {
    static let file = Result { try VectorFile.read() }

    /// The committed file is what the catalog renders (and is rewritten from it when
    /// FLOTILLA_REGENERATE_VECTORS=1; run the tests again afterwards).
    @Test func theCommittedFileMatchesTheCatalog() throws {
        let rendered = try VectorFile.render(valid: VectorCatalog.valid, invalid: VectorCatalog.invalid)
        if ProcessInfo.processInfo.environment["FLOTILLA_REGENERATE_VECTORS"] == "1" {
            try FileManager.default.createDirectory(
                at: VectorFile.url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try rendered.write(to: VectorFile.url, atomically: true, encoding: .utf8)
            return
        }
        let (lz4Version, _) = try Self.file.get()
        try #require(
            lz4Version == LZ4Block.libraryVersion, "LZ4 output is compared only with the liblz4 that generated it")
        #expect(try String(contentsOf: VectorFile.url, encoding: .utf8) == rendered)
    }

    @Test func theFileCoversTheRequiredCases() throws {
        let names = Set(try Self.file.get().entries.map(\.name))
        for required in [
            "hello", "hello-ack", "error-not-leader", "submit-job-request", "job-event-stream-item", "stream-end",
            "list-jobs-response-compressed", "frame-too-large", "unsupported-version", "unknown-kind", "invalid-flags",
            "corrupt-lz4",
        ] {
            #expect(names.contains(required), "missing vector \(required)")
        }
    }

    @Test func validVectorsDecodeToTheirFieldsAndReencodeToTheirBytes() throws {
        let (lz4Version, entries) = try Self.file.get()
        var json = JSONDecodingOptions()
        json.ignoreUnknownFields = false
        let valid = entries.filter { $0.fields["error"] == nil }
        #expect(valid.count >= 7)
        for entry in valid {
            let frames = try Wire.decode(entry.bytes)
            try #require(frames.count == 1, "\(entry.name)")
            let frame = frames[0]
            let header = try #require(entry.bytes.getFrameHeader(at: entry.bytes.readerIndex))
            #expect(entry.fields["kind"] == VectorFile.describe(frame.kind), "\(entry.name)")
            #expect(entry.fields["flags"] == VectorFile.describe(header.flags), "\(entry.name)")
            #expect(frame.flags == header.flags.subtracting(.compressed), "\(entry.name)")
            #expect(entry.fields["correlation-id"] == "\(frame.correlationID)", "\(entry.name)")
            let envelope = try Envelope(frame: frame)
            let expected = try frame.kind.messageType.init(jsonString: entry.fields["message"] ?? "", options: json)
            #expect(envelope.message.isEqualTo(message: expected), "\(entry.name)")

            // Re-encoding gives the same bytes (compressed ones: with the same liblz4).
            guard !header.flags.contains(.compressed) || lz4Version == LZ4Block.libraryVersion else { continue }
            let reencoded = try Wire.encode([
                try Envelope(expected, correlationID: frame.correlationID, flags: frame.flags).frame()
            ])
            #expect(reencoded == entry.bytes, "\(entry.name)")
        }
    }

    @Test func theCompressedVectorIsCompressedAndLargerThanTheThreshold() throws {
        let entry = try #require(try Self.file.get().entries.first { $0.name == "list-jobs-response-compressed" })
        let header = try #require(entry.bytes.getFrameHeader(at: entry.bytes.readerIndex))
        #expect(header.flags.contains(.compressed))
        let originalSize = try #require(entry.bytes.getInteger(at: entry.bytes.readerIndex + 16, as: UInt32.self))
        #expect(originalSize > 4096)
        #expect(Int(header.length) < Int(originalSize))
    }

    @Test func invalidVectorsFailWithTheirError() throws {
        let invalid = try Self.file.get().entries.filter { $0.fields["error"] != nil }
        #expect(invalid.count >= 5)
        for entry in invalid {
            let error = Wire.error(decoding: entry.bytes)
            let wireError = try #require(error as? WireError, "\(entry.name): \(String(describing: error))")
            #expect(VectorFile.describe(wireError) == entry.fields["error"], "\(entry.name)")
        }
    }
}
