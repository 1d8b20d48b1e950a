import FlotillaWire
import NIOCore

/// Decoding helpers shared by the suites: run bytes through a fresh decoder outside a
/// pipeline, the way the coordinator replays a log file.
enum Wire {
    /// Every frame in `bytes`, fed in `chunks` (all at once when empty), then end of stream.
    static func decode(
        _ bytes: ByteBuffer, chunks: [Int] = [], configuration: WireConfiguration = .init()
    ) throws -> [Frame] {
        let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(configuration: configuration))
        var frames: [Frame] = []
        var rest = bytes
        var sizes = chunks.makeIterator()
        while rest.readableBytes > 0 {
            let size = min(sizes.next() ?? rest.readableBytes, rest.readableBytes)
            try processor.process(buffer: rest.readSlice(length: size)!) { frames.append($0) }
        }
        try processor.finishProcessing(seenEOF: true) { frames.append($0) }
        return frames
    }

    /// The wire bytes of `frames`, one after another.
    static func encode(_ frames: [Frame], configuration: WireConfiguration = .init()) throws -> ByteBuffer {
        let encoder = FrameEncoder(configuration: configuration)
        var buffer = ByteBuffer()
        for frame in frames { try encoder.encode(frame, into: &buffer) }
        return buffer
    }

    /// The error decoding `bytes` ends with, or nil when they decode cleanly.
    static func error(decoding bytes: ByteBuffer, configuration: WireConfiguration = .init()) -> (any Error)? {
        do {
            for frame in try decode(bytes, configuration: configuration) { _ = try Envelope(frame: frame) }
            return nil
        } catch {
            return error
        }
    }

    static func header(
        length: UInt32, version: UInt8 = FrameHeader.currentVersion, flags: UInt8 = 0, kind: UInt16 = 5,
        correlationID: UInt64 = 1
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrameHeader(
            FrameHeader(
                length: length, version: version, flags: FrameFlags(rawValue: flags), kind: kind,
                correlationID: correlationID))
        return buffer
    }
}

extension ByteBuffer {
    init(hex: String) {
        var bytes: [UInt8] = []
        var high: UInt8?
        for character in hex where character.isHexDigit {
            let nibble = UInt8(character.hexDigitValue!)
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        precondition(high == nil, "odd number of hex digits")
        self.init(bytes: bytes)
    }

    var hex: String {
        readableBytesView.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
