import FlotillaTLS
import NIOCore

/// What a test sees happen on one side of a TLS connection, in order.
enum Observation: Sendable {
    case handshake(TLSPeer)
    case read(ByteBuffer)
    case error(any Error)
    case closed

    var peer: TLSPeer? {
        if case .handshake(let peer) = self { return peer }
        return nil
    }

    var error: (any Error)? {
        if case .error(let error) = self { return error }
        return nil
    }

    var tlsError: TLSError? { error as? TLSError }

    var isClosed: Bool {
        if case .closed = self { return true }
        return false
    }
}

/// Sits above `TLSHandler` and reports everything that reaches it; echoes plaintext back
/// when asked, so a client can check a round trip through a server.
final class ObservingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let echo: Bool
    private let record: (Observation) -> Void

    init(echo: Bool = false, record: @escaping (Observation) -> Void) {
        self.echo = echo
        self.record = record
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSEvent.handshakeCompleted(let peer) = event { record(.handshake(peer)) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        record(.read(bytes))
        if echo { context.writeAndFlush(wrapOutboundOut(bytes), promise: nil) }
    }

    /// Errors end here: recorded for the test, not logged by the pipeline's tail.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        record(.error(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        record(.closed)
        context.fireChannelInactive()
    }
}
