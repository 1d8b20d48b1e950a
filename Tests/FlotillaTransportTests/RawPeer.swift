import FlotillaTLS
import NIOCore
import NIOPosix

/// A peer that speaks below the Flotilla protocol: raw TCP, or TLS with whatever bytes
/// the test chooses, to check how the server treats misbehaving clients.
enum RawPeer {
    /// Connects over plain TCP (optionally adding TLS) and returns the channel.
    static func connect(port: Int, tls: TLSContext? = nil) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tls, mode: .client)) }
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    static func send(_ bytes: [UInt8], on channel: any Channel) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    /// Waits until the server closes the channel, up to `limit`; true if it did.
    static func closedByPeer(_ channel: any Channel, within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            if !channel.isActive { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return !channel.isActive
    }
}
