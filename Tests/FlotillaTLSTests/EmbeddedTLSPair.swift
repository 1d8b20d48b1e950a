import FlotillaTLS
import NIOCore
import NIOEmbedded

/// A client and a server `TLSHandler` on two `EmbeddedChannel`s sharing one event loop,
/// joined by `exchange()`, which carries the bytes each writes to the other. No sockets,
/// no threads; time moves only with `loop.advanceTime`.
final class EmbeddedTLSPair {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    private(set) var clientSaw: [Observation] = []
    private(set) var serverSaw: [Observation] = []

    init(client clientContext: TLSContext, server serverContext: TLSContext) throws {
        client = EmbeddedChannel(loop: loop)
        server = EmbeddedChannel(loop: loop)
        try client.pipeline.syncOperations.addHandlers(
            TLSHandler(context: clientContext, mode: .client), ObservingHandler { [unowned self] in clientSaw.append($0) })
        try server.pipeline.syncOperations.addHandlers(
            TLSHandler(context: serverContext, mode: .server), ObservingHandler { [unowned self] in serverSaw.append($0) })
    }

    /// Makes both channels active, which starts both handshakes.
    func activate() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4433)
        try server.connect(to: address).wait()
        try client.connect(to: address).wait()
    }

    /// Carries bytes both ways until neither side has anything more to send, optionally cut
    /// into pieces of `chunkSize` bytes to exercise reassembly. Returns the bytes carried.
    @discardableResult
    func exchange(chunkSize: Int = .max) throws -> Int {
        var carried = 0
        while true {
            let moved = try carry(from: client, to: server, chunkSize: chunkSize) + carry(from: server, to: client, chunkSize: chunkSize)
            if moved == 0 { return carried }
            carried += moved
        }
    }

    private func carry(from source: EmbeddedChannel, to target: EmbeddedChannel, chunkSize: Int) throws -> Int {
        var moved = 0
        while var bytes = try source.readOutbound(as: ByteBuffer.self) {
            moved += bytes.readableBytes
            while target.isActive, let piece = bytes.readSlice(length: min(chunkSize, bytes.readableBytes)), piece.readableBytes > 0 {
                try target.writeInbound(piece)
            }
        }
        return moved
    }

    /// Plaintext each side has received, concatenated.
    var clientReceived: [UInt8] { Self.bytes(clientSaw) }
    var serverReceived: [UInt8] { Self.bytes(serverSaw) }

    var clientErrors: [any Error] { clientSaw.compactMap(\.error) }
    var serverErrors: [any Error] { serverSaw.compactMap(\.error) }

    private static func bytes(_ observations: [Observation]) -> [UInt8] {
        observations.flatMap { observation -> [UInt8] in
            guard case .read(let buffer) = observation else { return [] }
            return Array(buffer.readableBytesView)
        }
    }
}
