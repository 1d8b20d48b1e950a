import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaWire
import NIOCore
import NIOPosix
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// One handshaken client connection to a Flotilla server: requests with deadlines,
/// one-way sends and streams, multiplexed by correlation id.
public final class FlotillaConnection: Sendable {
    public let channel: any Channel
    /// What the server said of itself in HelloAck.
    public let server: Flotilla_V1_HelloAck
    public let configuration: TransportConfiguration
    private let handler: NIOLoopBound<ClientConnectionHandler>

    private init(channel: any Channel, server: Flotilla_V1_HelloAck, configuration: TransportConfiguration, handler: NIOLoopBound<ClientConnectionHandler>) {
        self.channel = channel
        self.server = server
        self.configuration = configuration
        self.handler = handler
    }

    /// Connects, completes TLS and the Hello exchange, and checks the server is `expectedRole`.
    public static func connect(
        host: String, port: Int, tls: TLSContext, local: LocalNode, expectedRole: NodeRole? = .coordinator,
        configuration: TransportConfiguration = .init(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> FlotillaConnection {
        let loop = group.next()
        let ready = loop.makePromise(of: Flotilla_V1_HelloAck.self)
        let created = loop.makePromise(of: NIOLoopBound<ClientConnectionHandler>.self)
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.handshakeTimeout)
        #if os(Linux)
        if let timeout = configuration.unacknowledgedTimeout {
            bootstrap = bootstrap.channelOption(
                .tcpOption(NIOBSDSocket.Option(rawValue: CInt(TCP_USER_TIMEOUT))), value: Int(max(1, timeout.nanoseconds / 1_000_000)))
        }
        #endif
        bootstrap = bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ClientConnectionHandler(local: local, expectedRole: expectedRole, configuration: configuration, ready: ready)
                    try channel.pipeline.syncOperations.addHandlers(FramedTLSPipeline.handlers(tls: tls, mode: .client, wire: configuration.wire))
                    try channel.pipeline.syncOperations.addHandler(handler)
                    created.succeed(NIOLoopBound(handler, eventLoop: channel.eventLoop))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            ready.fail(error)
            created.fail(error)
            throw FlotillaError(.unavailable, "cannot connect to \(host):\(port): \(error)")
        }
        let timeout = loop.scheduleTask(in: configuration.handshakeTimeout) {
            ready.fail(FlotillaError.timedOutHere("handshake with \(host):\(port) did not complete within \(configuration.handshakeTimeout.nanoseconds / 1_000_000) ms"))
            channel.close(promise: nil)
        }
        do {
            let ack = try await ready.futureResult.get()
            timeout.cancel()
            let handler = try await created.futureResult.get()
            return FlotillaConnection(channel: channel, server: ack, configuration: configuration, handler: handler)
        } catch {
            timeout.cancel()
            channel.close(promise: nil)
            throw error
        }
    }

    /// Sends a request and waits for its answer; an Error answer is thrown as FlotillaError.
    public func request(_ message: any SwiftProtobuf.Message, timeout: TimeAmount? = nil) async throws -> Envelope {
        let promise = channel.eventLoop.makePromise(of: Envelope.self)
        let timeout = timeout ?? configuration.requestTimeout
        let handler = self.handler
        channel.eventLoop.execute { handler.value.request(message, timeout: timeout, promise: promise) }
        return try await promise.futureResult.get()
    }

    /// Sends a request and returns its answer as `R`, or throws INTERNAL for another kind.
    public func request<R: SwiftProtobuf.Message>(_ message: any SwiftProtobuf.Message, expecting: R.Type, timeout: TimeAmount? = nil) async throws -> R {
        let envelope = try await request(message, timeout: timeout)
        guard let answer = envelope.message(as: R.self) else {
            throw FlotillaError(.internal, "expected \(R.protoMessageName), got \(envelope.kind)")
        }
        return answer
    }

    /// Sends a one-way message (correlation id 0); nothing comes back.
    public func send(_ message: any SwiftProtobuf.Message) async throws {
        let handler = self.handler
        if let error = try await channel.eventLoop.submit({ handler.value.sendOneWay(message) }).get() {
            throw error
        }
    }

    /// Sends a one-way message without waiting for it to be written: the write is queued on
    /// the connection's event loop, behind every earlier one, and `failed` is told (on that
    /// loop) if it cannot be made. For a sender that must not wait a round trip to the event
    /// loop per message (a Raft leader's appends).
    public func sendWithoutWaiting(_ message: any SwiftProtobuf.Message, failed: @escaping @Sendable (FlotillaError) -> Void) {
        let handler = self.handler
        channel.eventLoop.execute {
            if let error = handler.value.sendOneWay(message) { failed(error) }
        }
    }

    /// Opens a server-pushed stream. Ending iteration early sends StreamCancel.
    public func stream(_ message: any SwiftProtobuf.Message) -> AsyncThrowingStream<any SwiftProtobuf.Message, any Error> {
        let (items, continuation) = AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.makeStream()
        let handler = self.handler
        let loop = channel.eventLoop
        loop.execute {
            guard let id = handler.value.openStream(message, continuation: continuation) else { return }
            continuation.onTermination = { termination in
                if case .cancelled = termination { loop.execute { handler.value.cancelStream(id) } }
            }
        }
        return items
    }

    public var isActive: Bool { channel.isActive }

    /// Closes the connection (TLS close_notify first).
    public func close() async {
        try? await channel.close().get()
    }
}
