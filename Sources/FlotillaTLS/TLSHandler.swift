import NIOCore

/// TLS over OpenSSL as a channel handler: ciphertext below, plaintext above.
///
/// The handshake starts when the channel becomes active and must finish within the
/// configuration's `handshakeTimeout`; on success `TLSEvent.handshakeCompleted` goes up
/// before any plaintext. Writes and flushes made earlier are held, with their promises,
/// and replayed in order after it. `close` sends close_notify and waits up to
/// `closeTimeout` for the peer's. Every failure is fired up the pipeline as a `TLSError`
/// and closes the channel.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer
    public typealias Mode = TLSContext.Mode

    /// The one place the connection's progress lives; every event switches over it.
    enum ConnectionState {
        /// Added to a channel that is not active yet.
        case idle
        /// Hellos and certificates in flight; `timeout` closes the channel if they take too long.
        case handshaking(timeout: Scheduled<Void>)
        /// Peer verified; plaintext flows both ways.
        case active
        /// Our close_notify is sent; `closed` completes when the peer's arrives, TCP ends
        /// or `timeout` gives up waiting.
        case closing(timeout: Scheduled<Void>, closed: EventLoopPromise<Void>)
        /// Done, failed or gone: nothing more is read or written.
        case closed
    }

    /// Outbound operations made before the handshake completed, replayed in order after it.
    enum HeldOutbound {
        case write(ByteBuffer, EventLoopPromise<Void>?)
        case flush
    }

    /// Plaintext is handed up in pieces of at most about this size.
    static let deliveryBatch = 64 * 1024

    let tlsContext: TLSContext
    let mode: Mode
    var state = ConnectionState.idle
    var connection: TLSConnection?
    var heldOutbound = CircularBuffer<HeldOutbound>()
    /// Reused for every read: once the handlers above let go of a delivered batch, the
    /// next reads decrypt into the same memory.
    var readScratch = ByteBuffer()
    var deliveredSinceReadComplete = false

    /// `mode` defaults to the one the context was loaded for.
    public init(context: TLSContext, mode: Mode? = nil) {
        tlsContext = context
        self.mode = mode ?? context.mode
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        do {
            connection = try TLSConnection(context: tlsContext, mode: mode)
        } catch {
            fail(context: context, error)
            return
        }
        if context.channel.isActive { beginHandshake(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        switch state {
        case .handshaking(let timeout):
            timeout.cancel()
        case .closing(let timeout, let closed):
            timeout.cancel()
            closed.fail(ChannelError.ioOnClosedChannel)
        case .idle, .active, .closed:
            break
        }
        state = .closed
        failHeldOutbound(ChannelError.ioOnClosedChannel)
        connection = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        beginHandshake(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        switch previous {
        case .idle, .closed:
            failHeldOutbound(ChannelError.ioOnClosedChannel)
        case .handshaking(let timeout):
            timeout.cancel()
            let error = TLSError.handshakeFailed(openSSL: ["the connection closed during the handshake"])
            failHeldOutbound(error)
            context.fireErrorCaught(error)
        case .active:
            context.fireErrorCaught(TLSError.uncleanShutdown)
        case .closing(let timeout, let closed):
            // We asked to close and the connection is gone: the peer need not answer.
            timeout.cancel()
            closed.succeed(())
        }
        context.fireChannelInactive()
    }

    // MARK: Handshake

    func beginHandshake(context: ChannelHandlerContext) {
        switch state {
        case .idle:
            let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: tlsContext.configuration.handshakeTimeout) {
                self.handshakeTimedOut(context: context)
            }
            state = .handshaking(timeout: timeout)
            advanceHandshake(context: context)
        case .handshaking, .active, .closing, .closed:
            break
        }
    }

    private func handshakeTimedOut(context: ChannelHandlerContext) {
        switch state {
        case .handshaking:
            fail(context: context, TLSError.handshakeTimeout)
        case .idle, .active, .closing, .closed:
            break
        }
    }

    func advanceHandshake(context: ChannelHandlerContext) {
        guard let connection else { return }
        switch connection.handshake() {
        case .incomplete:
            sendOutput(context: context)
        case .failed(let error):
            fail(context: context, error)
        case .complete:
            completeHandshake(context: context, connection: connection)
        }
    }

    private func completeHandshake(context: ChannelHandlerContext, connection: TLSConnection) {
        guard case .handshaking(let timeout) = state else { return }
        timeout.cancel()
        switch connection.peer() {
        case .complete(let peer):
            state = .active
            sendOutput(context: context)
            context.fireUserInboundEventTriggered(TLSEvent.handshakeCompleted(peer))
            releaseHeldOutbound(context: context)
            // Application data may have arrived in the same read as the handshake's end.
            readPlaintext(context: context)
        case .failed(let error):
            fail(context: context, error)
        case .incomplete:
            fail(context: context, TLSError.handshakeFailed(openSSL: ["the peer certificate is not available"]))
        }
    }

    // MARK: Failure

    /// Sends any alert OpenSSL queued, reports `error` and closes; later calls do nothing.
    func fail(context: ChannelHandlerContext, _ error: any Error) {
        var closed: EventLoopPromise<Void>?
        switch state {
        case .closed:
            return
        case .handshaking(let timeout):
            timeout.cancel()
        case .closing(let timeout, let promise):
            timeout.cancel()
            closed = promise
        case .idle, .active:
            break
        }
        state = .closed
        sendOutput(context: context)
        failHeldOutbound(error)
        context.fireErrorCaught(error)
        context.close(promise: closed)
    }

    /// Writes and flushes whatever OpenSSL produced for the peer (handshake records, alerts,
    /// close_notify).
    func sendOutput(context: ChannelHandlerContext) {
        guard let output = connection?.takeOutput(allocator: context.channel.allocator) else { return }
        context.writeAndFlush(wrapOutboundOut(output), promise: nil)
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
