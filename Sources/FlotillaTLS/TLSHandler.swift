import NIOCore

/// TLS over OpenSSL as a NIO handler: ciphertext below, plaintext above.
///
/// Writes made before the handshake completes are held, with their promises, and
/// written in order after it. Closing sends close_notify and waits for the peer's
/// (bounded by `closeTimeout`). Any failure is fired up the pipeline and closes the channel.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public typealias Mode = TLSContext.Mode

    private enum ConnectionState {
        case idle
        case handshaking
        case active
        case closing
        case closed
    }

    private let context: TLSContext
    private let configuration: TLSConfiguration
    private var connection: TLSConnection?
    private var state: ConnectionState = .idle
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var heldFlush = false
    private var handshakeTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?
    private var readBuffer: ByteBuffer?

    /// `mode` must match the context's; it is taken from the context.
    public init(context: TLSContext, mode: Mode? = nil) {
        self.context = context
        self.configuration = context.configuration
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        do {
            connection = try TLSConnection(context: self.context)
        } catch {
            state = .closed
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        if context.channel.isActive { startHandshake(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        closeTimer?.cancel()
        connection = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        state = .handshaking
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
            let (handler, context) = bound.value
            guard case .handshaking = handler.state else { return }
            handler.fail(context: context, TLSError.handshakeTimeout)
        }
        continueHandshake(context: context)
    }

    private func continueHandshake(context: ChannelHandlerContext) {
        guard let connection else { return }
        switch connection.handshake() {
        case .incomplete:
            sendOutput(context: context)
        case .failed(let error):
            sendOutput(context: context)  // the alert tells the peer why
            fail(context: context, error)
        case .complete:
            handshakeTimer?.cancel()
            state = .active
            sendOutput(context: context)
            context.fireUserInboundEventTriggered(TLSEvent.handshakeCompleted(connection.peer()))
            releaseHeldWrites(context: context)
            readPlaintext(context: context)
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection else { return }
        connection.feed(unwrapInboundIn(data))
        switch state {
        case .idle, .handshaking:
            if case .idle = state { state = .handshaking }
            continueHandshake(context: context)
        case .active, .closing:
            readPlaintext(context: context)
        case .closed:
            break
        }
    }

    private func readPlaintext(context: ChannelHandlerContext) {
        guard let connection else { return }
        while true {
            var buffer = readBuffer ?? context.channel.allocator.buffer(capacity: 16_384)
            readBuffer = nil
            buffer.clear()
            switch connection.read(into: &buffer) {
            case .data:
                context.fireChannelRead(wrapInboundOut(buffer))
            case .wantMoreInput:
                readBuffer = buffer
                sendOutput(context: context)  // e.g. TLS 1.3 key updates
                return
            case .closed:
                peerClosed(context: context)
                return
            case .failed(let error):
                fail(context: context, error)
                return
            }
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    /// The peer sent close_notify: answer it (if we have not already) and close.
    private func peerClosed(context: ChannelHandlerContext) {
        if case .active = state { connection?.shutdown() }
        sendOutput(context: context, flush: true)
        closeTimer?.cancel()
        state = .closed
        let promise = closePromise
        closePromise = nil
        context.close(promise: promise)
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        switch state {
        case .idle, .handshaking:
            heldWrites.append((plaintext, promise))
        case .active:
            encrypt(context: context, plaintext, promise: promise)
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .idle, .handshaking: heldFlush = true
        default: context.flush()
        }
    }

    private func encrypt(context: ChannelHandlerContext, _ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard let connection else { return promise?.fail(ChannelError.ioOnClosedChannel) ?? () }
        switch connection.write(plaintext) {
        case .complete, .incomplete:
            if let output = connection.takeOutput(allocator: context.channel.allocator) {
                context.write(wrapOutboundOut(output), promise: promise)
            } else {
                promise?.succeed(())
            }
        case .failed(let error):
            promise?.fail(error)
            fail(context: context, error)
        }
    }

    private func releaseHeldWrites(context: ChannelHandlerContext) {
        let writes = heldWrites
        heldWrites = []
        for (buffer, promise) in writes { encrypt(context: context, buffer, promise: promise) }
        if heldFlush || !writes.isEmpty {
            heldFlush = false
            context.flush()
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, case .active = state, let connection else {
            if case .closing = state, mode == .all {
                // Already waiting for the peer's close_notify; complete with that close.
                if let promise { closePromise?.futureResult.cascade(to: promise) ?? context.close(promise: promise) }
                return
            }
            if mode == .all { failHeldWrites(); state = .closed }
            context.close(mode: mode, promise: promise)
            return
        }
        state = .closing
        closePromise = promise
        connection.shutdown()
        sendOutput(context: context, flush: true)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        closeTimer = context.eventLoop.scheduleTask(in: configuration.closeTimeout) {
            let (handler, context) = bound.value
            guard case .closing = handler.state else { return }
            handler.state = .closed
            let promise = handler.closePromise
            handler.closePromise = nil
            context.close(promise: promise)
        }
    }

    private func sendOutput(context: ChannelHandlerContext, flush: Bool = true) {
        guard let output = connection?.takeOutput(allocator: context.channel.allocator) else { return }
        context.write(wrapOutboundOut(output), promise: nil)
        if flush { context.flush() }
    }

    // MARK: - Failure and teardown

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        guard state != .closed else { return }
        handshakeTimer?.cancel()
        state = .closed
        failHeldWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failHeldWrites(_ error: any Error = ChannelError.ioOnClosedChannel) {
        let writes = heldWrites
        heldWrites = []
        for (_, promise) in writes { promise?.fail(error) }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        closeTimer?.cancel()
        let wasActive = state == .active
        state = .closed
        failHeldWrites()
        if let closePromise {
            self.closePromise = nil
            closePromise.succeed(())
        }
        if wasActive { context.fireErrorCaught(TLSError.uncleanShutdown) }
        context.fireChannelInactive()
    }
}

