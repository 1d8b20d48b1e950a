/// Limits and tuning of the frame codec; both ends of a connection should agree
/// (HelloAck carries the server's `maxFrameBytes`).
public struct WireConfiguration: Sendable, Hashable {
    /// The largest payload accepted or produced, compressed or not: a declared length or
    /// original size above it is rejected before anything is allocated for it.
    public var maxFrameBytes: Int
    /// Payloads of at least this many bytes are LZ4-compressed when that makes them smaller.
    /// `Int.max` turns compression off for sending; receiving always accepts it.
    public var compressionThreshold: Int
    /// Requests and one-way messages are held to their kind's `maxRequestPayload`
    /// (servers and clients on a connection; not a log replay, which reads records).
    public var limitsRequestsByKind: Bool

    public init(maxFrameBytes: Int = 16 << 20, compressionThreshold: Int = 4096, limitsRequestsByKind: Bool = true) {
        self.maxFrameBytes = maxFrameBytes
        self.compressionThreshold = compressionThreshold
        self.limitsRequestsByKind = limitsRequestsByKind
    }
}
