import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaWire
import Logging
import NIOCore
import SwiftProtobuf

/// One accepted connection after TLS and framing: the Hello exchange, the role check,
/// the in-flight budgets, and dispatch to the service. Runs on the channel's event loop;
/// service calls run as tasks and hop back to the loop to reply.
///
/// Back-pressure: it intercepts `read` and stops reading from the peer while the peer is
/// over a budget (one-way messages or request bytes in flight) or is not draining its
/// answers (the channel is not writable), so TCP pushes back instead of memory growing.
final class ServerConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame

    private enum State {
        case awaitingHello(certified: NodeIdentity?)
        case active(PeerInfo)
        case closed
    }

    private var state: State = .awaitingHello(certified: nil)
    private let negotiation: HandshakeNegotiation
    private let service: any FlotillaService
    private let connectionID: UInt64
    private var logger: Logger
    private let admission: PeerAdmission
    private let roles: RoleCounts
    /// The role counted against its cap once the handshake completed.
    private var countedRole: NodeRole?
    /// Requests received and not yet answered on the wire (the answer's write completed).
    private var inFlight = 0
    private var inFlightBytes = 0
    private var oneWayInFlight = 0
    /// A `read` held back while over a budget.
    private var readPending = false
    private var streams: [UInt64: Task<Void, Never>] = [:]
    private var handshakeTimer: Scheduled<Void>?
    private var configuration: TransportConfiguration { negotiation.configuration }

    init(negotiation: HandshakeNegotiation, service: any FlotillaService, connectionID: UInt64,
         admission: PeerAdmission = PeerAdmission(), roles: RoleCounts = RoleCounts(limits: [:]), logger: Logger) {
        self.negotiation = negotiation
        self.service = service
        self.connectionID = connectionID
        self.admission = admission
        self.roles = roles
        self.logger = logger
        self.logger[metadataKey: "flotilla.connection"] = "\(connectionID)"
    }

    // MARK: Back-pressure

    private func overBudget(_ context: ChannelHandlerContext) -> Bool {
        oneWayInFlight >= configuration.maxOneWayInFlight || inFlightBytes >= configuration.maxInFlightBytes
            || !context.channel.isWritable
    }

    func read(context: ChannelHandlerContext) {
        if overBudget(context) {
            readPending = true
        } else {
            context.read()
        }
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        guard readPending, !overBudget(context) else { return }
        readPending = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReading(context)
        context.fireChannelWritabilityChanged()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armHandshakeTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armHandshakeTimer(context: context)
        context.fireChannelActive()
    }

    private func armHandshakeTimer(context: ChannelHandlerContext) {
        guard handshakeTimer == nil else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: negotiation.configuration.handshakeTimeout) {
            let (handler, context) = bound.value
            guard case .awaitingHello = handler.state else { return }
            handler.logger.info("handshake timed out; closing")
            handler.state = .closed
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSEvent.handshakeCompleted(let peer) = event, case .awaitingHello = state {
            state = .awaitingHello(certified: peer.identity)
        } else if event is ServerShutdownEvent {
            shutDown(context: context)
            return
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            logger.info("idle timeout; closing")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .closed:
            return
        case .awaitingHello(let certified):
            handshake(context: context, frame: frame, certified: certified)
        case .active(let peer):
            serve(context: context, frame: frame, peer: peer)
        }
    }

    private func handshake(context: ChannelHandlerContext, frame: Frame, certified: NodeIdentity?) {
        guard frame.kind == .hello, let envelope = try? Envelope(frame: frame), let hello = envelope.message(as: Flotilla_V1_Hello.self) else {
            rejectAndClose(context: context, negotiation.reject(.unauthenticated, "the first frame must be Hello"), correlationID: frame.correlationID)
            return
        }
        // Hello is a request (§3.3): a one-way Hello would have nowhere to send its answer.
        guard frame.correlationID != 0 else {
            rejectAndClose(context: context, negotiation.reject(.invalidArgument, "Hello must be a request: its correlation id must not be 0"), correlationID: 0)
            return
        }
        switch negotiation.answer(hello, certified: certified) {
        case .reject(let reject):
            logger.notice("handshake rejected", metadata: ["flotilla.reason": "\(reject.message)"])
            rejectAndClose(context: context, reject, correlationID: frame.correlationID)
        case .accept(let ack, let peer, let version):
            handshakeTimer?.cancel()
            guard roles.admit(peer.role) else {
                let limit = roles.limit(of: peer.role) ?? 0
                logger.warning("connection refused: role connection cap", metadata: [
                    "flotilla.role": "\(peer.role.rawValue)", "flotilla.limit": "\(limit)"])
                rejectAndClose(context: context, negotiation.reject(
                    .resourceExhausted, "this server already holds \(limit) \(peer.role.rawValue) connections"),
                    correlationID: frame.correlationID)
                return
            }
            countedRole = peer.role
            admission.permitted = Set(MessageKind.allCases.filter { RolePolicy.permits(peer.role, toSend: $0) })
            let info = PeerInfo(
                identity: peer, remoteAddress: Self.hostPort(context.channel.remoteAddress),
                version: version, connectionID: connectionID)
            state = .active(info)
            logger.debug("handshake complete", metadata: ["flotilla.peer": "\(peer.uri)"])
            write(context: context, ack, correlationID: frame.correlationID, flags: .response)
        }
    }

    /// `host:port` (`[v6]:port`), as PROTOCOL.md writes addresses; NIO's description
    /// reads `[IPv4]127.0.0.1/127.0.0.1:48746`.
    static func hostPort(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "?" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }

    private func rejectAndClose(context: ChannelHandlerContext, _ reject: Flotilla_V1_Reject, correlationID: UInt64) {
        state = .closed
        guard let frame = try? Envelope(reject, correlationID: correlationID, flags: .response).frame() else {
            context.close(promise: nil)
            return
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in bound.value.close(promise: nil) }
    }

    private func serve(context: ChannelHandlerContext, frame: Frame, peer: PeerInfo) {
        if frame.flags.contains(.response) { return }  // servers ask nothing; stray answers are dropped
        if frame.kind == .streamCancel {
            streams.removeValue(forKey: frame.correlationID)?.cancel()
            return
        }
        let oneWay = frame.correlationID == 0
        // Role and budgets are checked on the frame alone: a refused request is never decoded.
        guard RolePolicy.permits(peer.identity.role, toSend: frame.kind) else {
            logger.notice("permission denied", metadata: ["flotilla.kind": "\(frame.kind)", "flotilla.peer": "\(peer.identity.uri)"])
            if !oneWay {
                fail(context: context, FlotillaError(.permissionDenied, "role \(peer.identity.role.rawValue) may not send \(frame.kind)"), correlationID: frame.correlationID)
            }
            return
        }
        let bytes = frame.payload.readableBytes
        if oneWay, oneWayInFlight >= configuration.maxOneWayInFlight {
            // Reading paused at the cap; these arrived in the same read. Nothing to answer.
            logger.notice("one-way message dropped: too many in flight", metadata: ["flotilla.kind": "\(frame.kind)"])
            return
        }
        if !oneWay && frame.kind != .ping {
            if inFlight >= configuration.maxInFlight {
                fail(context: context, FlotillaError(.resourceExhausted, "more than \(configuration.maxInFlight) requests in flight on this connection", retryAfterMilliseconds: 100), correlationID: frame.correlationID)
                return
            }
            if inFlightBytes > 0, inFlightBytes + bytes > configuration.maxInFlightBytes {
                fail(context: context, FlotillaError(.resourceExhausted, "more than \(configuration.maxInFlightBytes) bytes of requests in flight on this connection", retryAfterMilliseconds: 100), correlationID: frame.correlationID)
                return
            }
        }
        if let problem = frame.payload.withUnsafeReadableBytes({ frame.kind.repeatedLimitProblem(in: $0) }) {
            if !oneWay { fail(context: context, FlotillaError(.invalidArgument, problem), correlationID: frame.correlationID) }
            return
        }
        let envelope: Envelope
        do {
            envelope = try Envelope(frame: frame)
        } catch {
            logger.notice("undecodable message; closing", metadata: ["flotilla.error": "\(error)"])
            // Correlation id 0 (§3.7): the connection is ending, not this request.
            fail(context: context, FlotillaError(.invalidArgument, "\(error)"), correlationID: 0)
            context.close(promise: nil)
            return
        }
        if frame.kind == .ping, let ping = envelope.message(as: Flotilla_V1_Ping.self) {
            var pong = Flotilla_V1_Pong()
            pong.sentUnixMs = ping.sentUnixMs
            if !oneWay { write(context: context, pong, correlationID: frame.correlationID, flags: .response) }
            return
        }
        let request = InboundRequest(peer: peer, kind: frame.kind, correlationID: frame.correlationID, message: envelope.message)
        if oneWay, service.receiveInOrder(request) { return }
        if oneWay {
            oneWayInFlight += 1
        } else {
            inFlight += 1
            inFlightBytes += bytes
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let service = self.service
        let loop = context.eventLoop
        Task {
            let reply = await service.handle(request)
            loop.execute { bound.value.0.finish(context: bound.value.1, request: request, bytes: bytes, reply: reply) }
        }
    }

    /// Sends the reply; the request stops counting as in flight once its answer is
    /// written to the socket (not merely produced), so a peer that never reads its
    /// answers cannot pile them up.
    private func finish(context: ChannelHandlerContext, request: InboundRequest, bytes: Int, reply: ServiceReply) {
        if request.isOneWay {
            oneWayInFlight -= 1
            resumeReading(context)
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let answered: @Sendable () -> Void = {
            let (handler, context) = bound.value
            handler.inFlight -= 1
            handler.inFlightBytes -= bytes
            handler.resumeReading(context)
        }
        guard case .active = state else { return answered() }
        switch reply {
        case .message(let message):
            write(context: context, message, correlationID: request.correlationID, flags: .response, then: answered)
        case .failure(let error):
            write(context: context, error.proto, correlationID: request.correlationID, flags: .response, then: answered)
        case .stream(let items):
            openStream(context: context, id: request.correlationID, items: items)
            answered()
        }
    }

    private func openStream(context: ChannelHandlerContext, id: UInt64, items: AsyncThrowingStream<any SwiftProtobuf.Message, any Error>) {
        guard streams.count < negotiation.configuration.maxOpenStreams else {
            fail(context: context, FlotillaError(.resourceExhausted, "more than \(negotiation.configuration.maxOpenStreams) open streams on this connection"), correlationID: id)
            return
        }
        let channel = context.channel
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        streams[id] = Task {
            var ending: any SwiftProtobuf.Message = Flotilla_V1_StreamEnd()
            do {
                for try await item in items {
                    let frame = try Envelope(item, correlationID: id, flags: [.response, .stream]).frame()
                    // Waiting for each write keeps a slow reader from growing our buffers.
                    try await channel.writeAndFlush(frame).get()
                }
            } catch is CancellationError {
            } catch let error as FlotillaError {
                ending = error.proto
            } catch {
                ending = FlotillaError(.internal, "\(error)").proto
            }
            let last = ending
            channel.eventLoop.execute {
                let (handler, context) = bound.value
                // Gone already: the server's shutdown ended it with its own frame.
                guard handler.streams.removeValue(forKey: id) != nil || !handler.isClosed else { return }
                handler.write(context: context, last, correlationID: id, flags: .response)
            }
        }
    }

    /// The server is closing: every open stream ends with UNAVAILABLE before the
    /// connection closes, so no watcher is left without an end frame.
    private func shutDown(context: ChannelHandlerContext) {
        let open = streams
        streams.removeAll()
        for (id, task) in open {
            task.cancel()
            fail(context: context, FlotillaError(.unavailable, "the server is shutting down; subscribe again"), correlationID: id)
        }
        state = .closed
        context.flush()
        context.close(promise: nil)
    }

    private var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    private func fail(context: ChannelHandlerContext, _ error: FlotillaError, correlationID: UInt64) {
        write(context: context, error.proto, correlationID: correlationID, flags: .response)
    }

    /// Writes one frame; `then` runs once it is written to the socket or has failed.
    private func write(context: ChannelHandlerContext, _ message: any SwiftProtobuf.Message, correlationID: UInt64,
                       flags: FrameFlags, then written: (@Sendable () -> Void)? = nil) {
        do {
            let frame = try Envelope(message, correlationID: correlationID, flags: flags).frame(allocator: context.channel.allocator)
            let limit = negotiation.configuration.wire.maxFrameBytes
            if frame.payload.readableBytes > limit, !(message is Flotilla_V1_Error) {
                // The answer would be refused by the peer: say so instead of dropping it.
                let error = FlotillaError(.resourceExhausted,
                                          "the answer is \(frame.payload.readableBytes) bytes, more than the \(limit)-byte frame limit; ask for less (e.g. a smaller limit)")
                return write(context: context, error.proto, correlationID: correlationID, flags: .response, then: written)
            }
            guard let written else { return context.writeAndFlush(wrapOutboundOut(frame), promise: nil) }
            let promise = context.eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { _ in written() }
            context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
        } catch {
            logger.error("cannot encode reply", metadata: ["flotilla.error": "\(error)"])
            written?()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed frames, TLS failures: this one connection ends, the server carries on.
        logger.notice("connection error; closing", metadata: ["flotilla.error": "\(error)"])
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        if let countedRole {
            roles.release(countedRole)
            self.countedRole = nil
        }
        for task in streams.values { task.cancel() }
        streams.removeAll()
        if case .active(let peer) = state {
            let service = self.service
            Task { await service.connectionClosed(peer) }
        }
        state = .closed
        context.fireChannelInactive()
    }
}
