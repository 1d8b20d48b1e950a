import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaWire
import NIOCore
import SwiftProtobuf

/// The client end of one connection: sends Hello, matches responses to requests by
/// correlation id, feeds streams, enforces deadlines and keeps the connection alive.
/// Everything here runs on the channel's event loop.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private enum Pending {
        case unary(EventLoopPromise<Envelope>, Scheduled<Void>?)
        case stream(AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.Continuation)
    }

    private let local: LocalNode
    private let expectedRole: NodeRole?
    private let configuration: TransportConfiguration
    let ready: EventLoopPromise<Flotilla_V1_HelloAck>
    private var certifiedServer: NodeIdentity?
    private var nextID: UInt64 = 1
    private var pending: [UInt64: Pending] = [:]
    private var context: ChannelHandlerContext?
    private var lastWrite = NIODeadline.now()
    private var keepAlive: RepeatedTask?
    private var closedError: FlotillaError?
    private var readySettled = false

    init(local: LocalNode, expectedRole: NodeRole?, configuration: TransportConfiguration, ready: EventLoopPromise<Flotilla_V1_HelloAck>) {
        self.local = local
        self.expectedRole = expectedRole
        self.configuration = configuration
        self.ready = ready
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { sendHello() }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendHello()
        context.fireChannelActive()
    }

    private func sendHello() {
        guard nextID == 1 else { return }
        let id = allocateID()
        let hello = HandshakeNegotiation.hello(from: local)
        // The TLS handler buffers this until its handshake completes.
        _ = write(hello, correlationID: id, flags: [])
        let promise = context!.eventLoop.makePromise(of: Envelope.self)
        pending[id] = .unary(promise, nil)
        let expectedRole = self.expectedRole
        // Callbacks run on this handler's event loop, so the loop-bound reference is safe.
        let bound = NIOLoopBound(self, eventLoop: promise.futureResult.eventLoop)
        promise.futureResult.whenComplete { result in
            let handler = bound.value
            switch result {
            case .failure(let error):
                handler.settleReady(.failure(error))
            case .success(let envelope):
                if let reject = envelope.message(as: Flotilla_V1_Reject.self) {
                    handler.settleReady(.failure(FlotillaError(reject.code, "handshake rejected: \(reject.message)")))
                } else if let ack = envelope.message(as: Flotilla_V1_HelloAck.self) {
                    if let error = HandshakeNegotiation.verifyServer(ack, certified: handler.certifiedServer, expectedRole: expectedRole) {
                        handler.settleReady(.failure(error))
                        handler.context?.close(promise: nil)
                    } else {
                        handler.startKeepAlive()
                        handler.settleReady(.success(ack))
                    }
                } else {
                    handler.settleReady(.failure(FlotillaError(.unauthenticated, "the server answered Hello with \(envelope.kind)")))
                }
            }
        }
    }

    private func settleReady(_ result: Result<Flotilla_V1_HelloAck, any Error>) {
        guard !readySettled else { return }
        readySettled = true
        ready.completeWith(result)
    }

    private func startKeepAlive() {
        guard let context else { return }
        let interval = configuration.keepAliveInterval
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        keepAlive = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let handler = bound.value
            guard NIODeadline.now() - handler.lastWrite >= interval else { return }
            var ping = Flotilla_V1_Ping()
            ping.sentUnixMs = UInt64(max(0, NIODeadline.now().uptimeNanoseconds / 1_000_000))
            _ = handler.write(ping, correlationID: 0, flags: [])
        }
    }

    private func allocateID() -> UInt64 {
        defer { nextID &+= 1 }
        return nextID
    }

    @discardableResult
    private func write(_ message: any SwiftProtobuf.Message, correlationID: UInt64, flags: FrameFlags) -> FlotillaError? {
        guard let context else { return FlotillaError(.unavailable, "connection is closed") }
        do {
            let frame = try Envelope(message, correlationID: correlationID, flags: flags).frame(allocator: context.channel.allocator)
            // Refused here, at once, rather than dropped by the encoder and timed out later.
            let limit = configuration.wire.payloadLimit(for: frame.kind, flags: flags)
            guard frame.payload.readableBytes <= limit else {
                return FlotillaError(.resourceExhausted,
                                     "\(type(of: message)) is \(frame.payload.readableBytes) bytes, more than the \(limit)-byte frame limit for its kind")
            }
            lastWrite = .now()
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            return nil
        } catch {
            return FlotillaError(.invalidArgument, "cannot encode \(type(of: message)): \(error)")
        }
    }

    // MARK: - Calls from FlotillaConnection (already on the event loop)

    func request(_ message: any SwiftProtobuf.Message, timeout: TimeAmount, promise: EventLoopPromise<Envelope>) {
        if let closedError { return promise.fail(closedError) }
        let id = allocateID()
        if let error = write(message, correlationID: id, flags: []) { return promise.fail(error) }
        let bound = NIOLoopBound(self, eventLoop: context!.eventLoop)
        let deadline = context!.eventLoop.scheduleTask(in: timeout) {
            guard case .unary(let promise, _) = bound.value.pending.removeValue(forKey: id) else { return }
            promise.fail(FlotillaError.timedOutHere("no answer within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        pending[id] = .unary(promise, deadline)
    }

    func openStream(_ message: any SwiftProtobuf.Message, continuation: AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.Continuation) -> UInt64? {
        if let closedError {
            continuation.finish(throwing: closedError)
            return nil
        }
        let id = allocateID()
        if let error = write(message, correlationID: id, flags: []) {
            continuation.finish(throwing: error)
            return nil
        }
        pending[id] = .stream(continuation)
        return id
    }

    func cancelStream(_ id: UInt64) {
        guard case .stream(let continuation) = pending.removeValue(forKey: id) else { return }
        continuation.finish()
        write(Flotilla_V1_StreamCancel(), correlationID: id, flags: [])
    }

    func sendOneWay(_ message: any SwiftProtobuf.Message) -> FlotillaError? {
        if let closedError { return closedError }
        return write(message, correlationID: 0, flags: [])
    }

    // MARK: - Inbound

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSEvent.handshakeCompleted(let peer) = event {
            certifiedServer = peer.identity
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.flags.contains(.response) else {
            answerPing(frame)  // the only request a client serves
            return
        }
        // An Error on correlation id 0 is the server's reason for closing (§3.7): requests
        // still in flight fail with it rather than with a bare "connection closed".
        if frame.correlationID == 0, frame.kind == .error,
           let error = (try? Envelope(frame: frame))?.message(as: Flotilla_V1_Error.self) {
            closedError = FlotillaError(error)
            return
        }
        guard let entry = pending[frame.correlationID] else { return }  // late answer after a deadline
        let envelope: Envelope
        do {
            envelope = try Envelope(frame: frame)
        } catch {
            context.fireErrorCaught(error)
            return
        }
        switch entry {
        case .unary(let promise, let deadline):
            pending.removeValue(forKey: frame.correlationID)
            deadline?.cancel()
            if let error = envelope.message(as: Flotilla_V1_Error.self) {
                promise.fail(FlotillaError(error))
            } else {
                promise.succeed(envelope)
            }
        case .stream(let continuation):
            if frame.flags.contains(.stream) {
                continuation.yield(envelope.message)
            } else {
                pending.removeValue(forKey: frame.correlationID)
                if let error = envelope.message(as: Flotilla_V1_Error.self) {
                    continuation.finish(throwing: FlotillaError(error))
                } else {
                    continuation.finish()
                }
            }
        }
    }

    private func answerPing(_ frame: Frame) {
        guard frame.kind == .ping, frame.correlationID != 0,
            let ping = (try? Envelope(frame: frame))?.message(as: Flotilla_V1_Ping.self)
        else { return }
        var pong = Flotilla_V1_Pong()
        pong.sentUnixMs = ping.sentUnixMs
        write(pong, correlationID: frame.correlationID, flags: .response)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closedError = FlotillaError(.unavailable, "connection failed: \(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        keepAlive?.cancel()
        let error = closedError ?? FlotillaError(.unavailable, "connection closed")
        closedError = error
        for entry in pending.values {
            switch entry {
            case .unary(let promise, let deadline):
                deadline?.cancel()
                promise.fail(error)
            case .stream(let continuation):
                continuation.finish(throwing: error)
            }
        }
        pending.removeAll()
        settleReady(.failure(error))
        self.context = nil
        context.fireChannelInactive()
    }
}
