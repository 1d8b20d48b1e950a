import FlotillaTLS
import NIOCore
import NIOPosix

/// One side of a real TCP connection (or a listener) on 127.0.0.1, with what it observed.
struct LoopbackEndpoint: Sendable {
    let channel: any Channel
    let observations: ObservationStream

    var port: Int { channel.localAddress?.port ?? 0 }

    func close() async {
        try? await channel.close()
    }
}

enum Loopback {
    /// A TLS server on an ephemeral port whose connections echo what they receive; the
    /// observations of all its connections arrive on one stream.
    static func server(_ context: TLSContext) async throws -> LoopbackEndpoint {
        let observations = ObservationStream()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        TLSHandler(context: context, mode: .server),
                        ObservingHandler(echo: true) { observations.record($0) })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LoopbackEndpoint(channel: channel, observations: observations)
    }

    /// A client connection to `port`: TLS with `context`, or raw TCP when it is nil.
    static func client(port: Int, _ context: TLSContext?) async throws -> LoopbackEndpoint {
        let observations = ObservationStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(TLSHandler(context: context, mode: .client)) }
                    try channel.pipeline.syncOperations.addHandler(ObservingHandler { observations.record($0) })
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return LoopbackEndpoint(channel: channel, observations: observations)
    }
}
