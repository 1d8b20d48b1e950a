import FlotillaPKI
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
    private let connections: ServerConnections

    private init(channel: any Channel, tls: TLSContext, connections: ServerConnections) {
        self.channel = channel
        self.tls = tls
        self.connections = connections
    }

    /// The bound port (useful after binding port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    public static func start(
        host: String, port: Int, tls: TLSContext, local: LocalNode, service: any FlotillaService,
        configuration: TransportConfiguration = .init(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "flotilla.server")
    ) async throws -> FlotillaServer {
        let negotiation = HandshakeNegotiation(local: local, configuration: configuration)
        let connections = ServerConnections()
        let roles = RoleCounts(limits: configuration.maxConnectionsPerRole)
        let budget = PartialFrameBudget(capacity: configuration.maxPartialFrameBytes)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(
                low: configuration.writeBufferLowWater, high: configuration.writeBufferHighWater))
            .childChannelInitializer { channel in
                guard connections.count < configuration.maxConnections else {
                    logger.warning("connection refused: \(configuration.maxConnections) connections are open")
                    return channel.close()
                }
                let id = connections.add(channel)
                let admission = PeerAdmission()
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandlers(FramedTLSPipeline.handlers(
                        tls: tls, mode: .server, wire: configuration.wire, admission: admission, budget: budget))
                    try sync.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout))
                    try sync.addHandler(ServerConnectionHandler(
                        negotiation: negotiation, service: service, connectionID: id, admission: admission, roles: roles,
                        logger: logger))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        logger.info("listening", metadata: ["flotilla.address": "\(channel.localAddress?.description ?? "?")"])
        return FlotillaServer(channel: channel, tls: tls, connections: connections)
    }

    /// Open connections, accepted and not yet closed.
    public var connectionCount: Int { connections.count }

    /// Stops accepting, then ends every open connection cleanly: each open stream gets a
    /// final UNAVAILABLE error (so a watcher knows to re-watch elsewhere rather than
    /// seeing its stream simply vanish), the frames are flushed, and TLS is closed.
    /// Waits at most `grace` for the connections to close.
    public func close(grace: TimeAmount = .seconds(5)) async {
        try? await channel.close().get()
        let closing = connections.all.map { child in
            child.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
            return child.closeFuture
        }
        guard !closing.isEmpty else { return }
        let loop = channel.eventLoop
        let finished = loop.makePromise(of: Void.self)
        let settled = NIOLockedValueBox(false)
        let settle: @Sendable () -> Void = {
            if settled.withLockedValue({ done in defer { done = true }; return !done }) { finished.succeed() }
        }
        EventLoopFuture.andAllComplete(closing, on: loop).whenComplete { _ in settle() }
        let timer = loop.scheduleTask(in: grace) { settle() }
        try? await finished.futureResult.get()
        timer.cancel()
    }
}

/// Authenticated connections per role, against the configured caps.
final class RoleCounts: Sendable {
    private let limits: [NodeRole: Int]
    private let counts = NIOLockedValueBox<[NodeRole: Int]>([:])

    init(limits: [NodeRole: Int]) {
        self.limits = limits
    }

    /// Counts one more connection of `role`; false (and nothing counted) at the cap.
    func admit(_ role: NodeRole) -> Bool {
        counts.withLockedValue { counts in
            let open = counts[role, default: 0]
            if let limit = limits[role], open >= limit { return false }
            counts[role] = open + 1
            return true
        }
    }

    func release(_ role: NodeRole) {
        counts.withLockedValue { $0[role, default: 1] -= 1 }
    }

    func limit(of role: NodeRole) -> Int? { limits[role] }
}

/// Sent down each open connection's pipeline when its server closes.
struct ServerShutdownEvent: Sendable {}

/// The server's open connections, numbered in acceptance order.
final class ServerConnections: Sendable {
    private let state = NIOLockedValueBox<(next: UInt64, open: [UInt64: any Channel])>((0, [:]))

    /// Numbers `channel` and tracks it until it closes.
    func add(_ channel: any Channel) -> UInt64 {
        let id = state.withLockedValue { state in
            state.next += 1
            state.open[state.next] = channel
            return state.next
        }
        channel.closeFuture.whenComplete { [state] _ in
            _ = state.withLockedValue { $0.open.removeValue(forKey: id) }
        }
        return id
    }

    var all: [any Channel] { state.withLockedValue { Array($0.open.values) } }
    var count: Int { state.withLockedValue { $0.open.count } }
}
