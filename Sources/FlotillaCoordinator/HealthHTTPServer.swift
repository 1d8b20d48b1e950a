import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// What the plain-HTTP port answers: `/healthz` (the process serves),
/// `/readyz` (it can take work), `/metrics` (Prometheus text format).
struct HealthEndpoints: Sendable {
    var healthy: @Sendable () async -> Bool
    var ready: @Sendable () async -> (Bool, String)
    var metrics: @Sendable () async -> [UInt8]
}

/// How much of the process the plain-HTTP port may use. It is unauthenticated, so it
/// gets its own small descriptor budget: before, 1,000 idle connections used every
/// descriptor and the mutual-TLS port stopped accepting.
public struct HTTPLimits: Sendable, Hashable {
    /// Open connections; past it a new one is closed at once.
    public var maxConnections: Int
    /// A connection on which nothing arrives for this long is closed.
    public var idleTimeout: TimeAmount

    public init(maxConnections: Int = 64, idleTimeout: TimeAmount = .seconds(10)) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
    }
}

/// A small HTTP/1.1 server over NIOHTTP1's codec: GET only, one response per
/// request, no keep-alive state worth speaking of.
final class HealthHTTPServer: Sendable {
    let channel: any Channel
    private let open: NIOLockedValueBox<Int>

    private init(channel: any Channel, open: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.open = open
    }

    static func start(host: String, port: Int, endpoints: HealthEndpoints, limits: HTTPLimits = HTTPLimits(),
                      group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> HealthHTTPServer {
        let open = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let admitted = open.withLockedValue { count in
                    guard count < limits.maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                return channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandlers(IdleStateHandler(allTimeout: limits.idleTimeout), HealthHTTPHandler(endpoints: endpoints))
                }
            }
            .bind(host: host, port: port).get()
        return HealthHTTPServer(channel: channel, open: open)
    }

    /// Connections open now.
    var connectionCount: Int { open.withLockedValue { $0 } }

    var port: Int { channel.localAddress?.port ?? 0 }

    func close() async { try? await channel.close().get() }
}

private final class HealthHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoints: HealthEndpoints
    private var head: HTTPRequestHead?

    init(endpoints: HealthEndpoints) { self.endpoints = endpoints }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let endpoints = self.endpoints
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: (HTTPResponseStatus, String, [UInt8]).self)
            promise.completeWithTask { await Self.answer(head, endpoints) }
            promise.futureResult.whenSuccess { status, type, body in
                let (handler, context) = loopBound.value
                handler.respond(context: context, head: head, status: status, contentType: type, body: body)
            }
        }
    }

    private static func answer(_ head: HTTPRequestHead, _ endpoints: HealthEndpoints) async -> (HTTPResponseStatus, String, [UInt8]) {
        let text = "text/plain; charset=utf-8"
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, text, Array("only GET is served\n".utf8))
        }
        switch head.uri.split(separator: "?").first.map(String.init) ?? head.uri {
        case "/healthz":
            return await endpoints.healthy() ? (.ok, text, Array("ok\n".utf8))
                : (.serviceUnavailable, text, Array("unhealthy\n".utf8))
        case "/readyz":
            let (ready, why) = await endpoints.ready()
            return (ready ? .ok : .serviceUnavailable, text, Array("\(why)\n".utf8))
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", await endpoints.metrics())
        default:
            return (.notFound, text, Array("not found: try /healthz, /readyz or /metrics\n".utf8))
        }
    }

    private func respond(context: ChannelHandlerContext, head request: HTTPRequestHead, status: HTTPResponseStatus,
                         contentType: String, body: [UInt8]) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
