import NIOCore

extension TLSHandler {
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ciphertext = unwrapInboundIn(data)
        guard let connection else { return }
        switch state {
        case .idle:
            // Bytes before channelActive (only an unusual pipeline does this): start now.
            if case .failed(let error) = connection.receive(ciphertext) { return fail(context: context, error) }
            beginHandshake(context: context)
        case .handshaking:
            if case .failed(let error) = connection.receive(ciphertext) { return fail(context: context, error) }
            advanceHandshake(context: context)
        case .active, .closing:
            if case .failed(let error) = connection.receive(ciphertext) { return fail(context: context, error) }
            readPlaintext(context: context)
        case .closed:
            break
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // Handshake bytes deliver nothing upward; without auto-read nobody else would ask for more.
        if !deliveredSinceReadComplete, let options = context.channel.syncOptions,
            (try? options.getOption(ChannelOptions.autoRead)) == false
        {
            context.read()
        }
        deliveredSinceReadComplete = false
        // Everything read went up: give the scratch buffer (16 KiB or more) back rather
        // than hold it while the connection idles. A coordinator holds thousands of
        // connections that carry one small heartbeat every few seconds.
        if readScratch.readableBytes == 0, readScratch.capacity > 0 { readScratch = ByteBuffer() }
        if case .active = state { connection?.releaseIdleBuffers() }
        context.fireChannelReadComplete()
    }

    /// Decrypts everything the input BIO holds and hands it up in batches.
    func readPlaintext(context: ChannelHandlerContext) {
        guard let connection else { return }
        while true {
            switch state {
            case .active, .closing:
                break
            case .idle, .handshaking, .closed:
                return  // a handler above closed the channel while handling a batch
            }
            switch connection.read(into: &readScratch) {
            case .complete(.plaintext):
                if readScratch.readableBytes >= Self.deliveryBatch { deliverPlaintext(context: context) }
            case .complete(.closeNotify):
                deliverPlaintext(context: context)
                peerSentCloseNotify(context: context)
                return
            case .incomplete:
                deliverPlaintext(context: context)
                sendOutput(context: context)  // e.g. the answer to a TLS 1.3 KeyUpdate
                return
            case .failed(let error):
                deliverPlaintext(context: context)
                fail(context: context, error)
                return
            }
        }
    }

    private func deliverPlaintext(context: ChannelHandlerContext) {
        guard readScratch.readableBytes > 0 else { return }
        let batch = readScratch
        // Rewind our copy without clear(), which would reallocate while `batch` shares storage.
        readScratch.moveReaderIndex(to: 0)
        readScratch.moveWriterIndex(to: 0)
        deliveredSinceReadComplete = true
        context.fireChannelRead(wrapInboundOut(batch))
    }

    /// The peer will send nothing more: answer with our close_notify (unless already sent)
    /// and close.
    private func peerSentCloseNotify(context: ChannelHandlerContext) {
        switch state {
        case .active:
            state = .closed
            _ = connection?.shutdown()
            sendOutput(context: context)
            failHeldOutbound(ChannelError.ioOnClosedChannel)
            context.close(promise: nil)
        case .closing(let timeout, let closed):
            timeout.cancel()
            state = .closed
            context.close(promise: closed)
        case .idle, .handshaking, .closed:
            break
        }
    }
}
