import NIOCore

/// Writes each outbound `Frame` as two buffers, header then payload, so the payload is
/// never copied into a combined buffer. An unencodable frame (over the size limit, bad
/// flags) fails that write's promise and nothing reaches the wire.
/// Immutable, hence `Sendable`: pipelines may be built off the event loop.
public final class FrameEncoderHandler: ChannelOutboundHandler, Sendable {
    public typealias OutboundIn = Frame
    public typealias OutboundOut = ByteBuffer

    private let encoder: FrameEncoder

    public init(configuration: WireConfiguration = .init()) {
        self.encoder = FrameEncoder(configuration: configuration)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        let encoded: (header: ByteBuffer, payload: ByteBuffer)
        do {
            encoded = try encoder.encode(frame, allocator: context.channel.allocator)
        } catch {
            promise?.fail(error)
            return
        }
        if encoded.payload.readableBytes == 0 {
            context.write(wrapOutboundOut(encoded.header), promise: promise)
        } else {
            context.write(wrapOutboundOut(encoded.header), promise: nil)
            context.write(wrapOutboundOut(encoded.payload), promise: promise)
        }
    }
}
