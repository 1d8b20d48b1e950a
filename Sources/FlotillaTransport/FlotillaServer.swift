import FlotillaTLS
import FlotillaWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A listening Flotilla endpoint: mutual TLS, framing, Hello, role checks, and the
/// service behind them. Each connection fails alone; the listener carries on.
public final class FlotillaServer: Sendable {
    public let channel: any Channel
    public let tls: TLSContext

    private init(channel: any Channel, tls: TLSContext) {
        self.channel = channel
        self.tls = tls
    }

    /// The bound port (useful after binding port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    public static func start(
        host: String, port: Int, tls: TLSContext, local: LocalNode, service: any FlotillaService,
        configuration: TransportConfiguration = .init(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "flotilla.server")
    ) async throws -> FlotillaServer {
        let negotiation = HandshakeNegotiation(local: local, configuration: configuration)
        let connections = NIOLockedValueBox<UInt64>(0)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let id = connections.withLockedValue { value in
                    value += 1
                    return value
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandlers(FramedTLSPipeline.handlers(tls: tls, mode: .server, wire: configuration.wire))
                    try sync.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout))
                    try sync.addHandler(ServerConnectionHandler(negotiation: negotiation, service: service, connectionID: id, logger: logger))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        logger.info("listening", metadata: ["flotilla.address": "\(channel.localAddress?.description ?? "?")"])
        return FlotillaServer(channel: channel, tls: tls)
    }

    /// Stops accepting; open connections are closed by their own lifecycles or the group.
    public func close() async {
        try? await channel.close().get()
    }
}
