import NIOCore

extension TLSHandler {
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        switch state {
        case .idle, .handshaking:
            heldOutbound.append(.write(plaintext, promise))
        case .active where !heldOutbound.isEmpty:
            heldOutbound.append(.write(plaintext, promise))  // still replaying: keep the order
        case .active:
            encrypt(context: context, plaintext, promise: promise)
        case .closing, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .idle, .handshaking:
            heldOutbound.append(.flush)
        case .active where !heldOutbound.isEmpty:
            heldOutbound.append(.flush)
        case .active, .closing, .closed:
            context.flush()
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else {
            // TLS has no half-close of its own; leave TCP half-closes to the channel.
            context.close(mode: mode, promise: promise)
            return
        }
        switch state {
        case .idle, .handshaking:
            if case .handshaking(let timeout) = state { timeout.cancel() }
            state = .closed
            failHeldOutbound(ChannelError.ioOnClosedChannel)
            context.close(promise: promise)
        case .active:
            startClosing(context: context, promise: promise)
        case .closing(_, let closed):
            if let promise { closed.futureResult.cascade(to: promise) }
        case .closed:
            context.close(promise: promise)
        }
    }

    /// Sends close_notify and waits, up to `closeTimeout`, for the peer's.
    private func startClosing(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let closed = context.eventLoop.makePromise(of: Void.self)
        if let promise { closed.futureResult.cascade(to: promise) }
        guard let connection else {
            state = .closed
            return context.close(promise: closed)
        }
        switch connection.shutdown() {
        case .incomplete:
            let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: tlsContext.configuration.closeTimeout) {
                self.closeTimedOut(context: context)
            }
            state = .closing(timeout: timeout, closed: closed)
            sendOutput(context: context)
        case .complete, .failed:
            // Both close_notifys already exchanged, or OpenSSL cannot send ours: just close.
            state = .closed
            sendOutput(context: context)
            context.close(promise: closed)
        }
    }

    private func closeTimedOut(context: ChannelHandlerContext) {
        switch state {
        case .closing(_, let closed):
            state = .closed
            context.close(promise: closed)
        case .idle, .handshaking, .active, .closed:
            break
        }
    }

    /// Replays what was held during the handshake. Each entry is taken off the queue before
    /// it is carried out, and writes made meanwhile queue behind the rest (see `write`).
    func releaseHeldOutbound(context: ChannelHandlerContext) {
        while let held = heldOutbound.popFirst() {
            switch (held, state) {
            case (.write(let plaintext, let promise), .active):
                encrypt(context: context, plaintext, promise: promise)
            case (.write(_, let promise), .idle), (.write(_, let promise), .handshaking),
                (.write(_, let promise), .closing), (.write(_, let promise), .closed):
                promise?.fail(ChannelError.ioOnClosedChannel)
            case (.flush, _):
                context.flush()
            }
        }
    }

    func failHeldOutbound(_ error: any Error) {
        while let held = heldOutbound.popFirst() {
            if case .write(_, let promise) = held { promise?.fail(error) }
        }
    }

    /// Encrypts one write and passes the ciphertext down with the caller's promise.
    private func encrypt(context: ChannelHandlerContext, _ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard let connection else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch connection.write(plaintext) {
        case .complete, .incomplete:
            // An empty write still goes down, so its promise completes in order.
            let ciphertext = connection.takeOutput(allocator: context.channel.allocator) ?? context.channel.allocator.buffer(capacity: 0)
            context.write(wrapOutboundOut(ciphertext), promise: promise)
        case .failed(let error):
            promise?.fail(error)
            fail(context: context, error)
        }
    }
}
