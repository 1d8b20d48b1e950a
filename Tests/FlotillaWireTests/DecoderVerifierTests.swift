import FlotillaWire
import NIOCore
import NIOTestUtils
import XCTest

/// swift-nio's own conformance check: feeds each input whole and byte by byte, with and
/// without other inputs around it, and checks the outputs and that nothing is left over.
final class DecoderVerifierTests: XCTestCase {
    func testFrameDecoderPassesTheByteToMessageDecoderVerifier() throws {
        let pairs =
            try ChunkingTests.frames.prefix(40).map { frame in (try Wire.encode([frame]), [frame]) }
            + [(try Wire.encode(Array(ChunkingTests.frames.suffix(5))), Array(ChunkingTests.frames.suffix(5)))]
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() })
    }
}
