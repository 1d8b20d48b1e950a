/// The flags byte of a frame header (offset 5).
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The payload is a u32 big-endian original size followed by one LZ4 block.
    /// Set and cleared by the codec only: a decoded `Frame` never carries it.
    public static let compressed = FrameFlags(rawValue: 0x01)
    /// The frame answers the request with the same correlation id, or is an item of its stream.
    public static let response = FrameFlags(rawValue: 0x02)
    /// A stream item: more frames with this correlation id follow (until StreamEnd or Error).
    public static let stream = FrameFlags(rawValue: 0x04)

    /// Every bit version 1 defines; a frame with any other bit set is rejected.
    public static let known: FrameFlags = [.compressed, .response, .stream]
}
