import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import NIOCore
import NIOEmbedded
import Testing

/// Timeouts, hostile bytes and untrusted certificates, without sockets.
struct EmbeddedFailureTests {
    let cluster: TestCluster

    init() throws {
        cluster = try TestCluster()
    }

    @Test func silentPeerIsCutOffByTheHandshakeTimeout() throws {
        let pair = try EmbeddedTLSPair(
            client: cluster.context(.client, "alice", mode: .client),
            server: cluster.context(.coordinator, "c1", mode: .server, handshakeTimeout: .seconds(2)))
        try pair.server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        pair.loop.advanceTime(by: .milliseconds(1_900))
        #expect(pair.server.isActive)
        pair.loop.advanceTime(by: .milliseconds(200))
        #expect(!pair.server.isActive)
        #expect(pair.serverErrors.compactMap { $0 as? TLSError } == [.handshakeTimeout])
    }

    @Test func completedHandshakeDisarmsTheTimeout() throws {
        let pair = try EmbeddedTLSPair(
            client: cluster.context(.client, "alice", mode: .client, handshakeTimeout: .seconds(1)),
            server: cluster.context(.coordinator, "c1", mode: .server, handshakeTimeout: .seconds(1)))
        try pair.activate()
        try pair.exchange()
        pair.loop.advanceTime(by: .seconds(5))
        #expect(pair.client.isActive && pair.server.isActive)
        #expect(pair.clientErrors.isEmpty && pair.serverErrors.isEmpty)
    }

    @Test func plaintextInsteadOfAHandshakeIsRejected() throws {
        let server = try serverChannel(try cluster.context(.coordinator, "c1", mode: .server))
        try server.channel.writeInbound(ByteBuffer("GET / HTTP/1.1\r\nHost: c1\r\n\r\n"))
        #expect(!server.channel.isActive)
        let error = try #require(server.errors.first as? TLSError)
        guard case .handshakeFailed(let stack) = error else { Issue.record("unexpected \(error)"); return }
        #expect(!stack.isEmpty)
    }

    /// Seeded random bytes, as a first flight or after a completed handshake: each either
    /// waits for more or fails with an error, and nothing crashes.
    @Test func randomBytesNeverCrashTheHandler() throws {
        var random = SeededRandom(seed: 0x5EED_7135)
        let context = try cluster.context(.coordinator, "c1", mode: .server)
        for round in 0..<300 {
            let server = try serverChannel(context)
            let length = Int(random.next() % 3_000) + 1
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if round % 3 == 0 { bytes.replaceSubrange(0..<min(3, length), with: [0x16, 0x03, 0x01].prefix(length)) }  // looks like a handshake record
            _ = try? server.channel.writeInbound(ByteBuffer(bytes: bytes))
            #expect(server.channel.isActive || !server.errors.isEmpty, "round \(round) closed silently")
        }

        let pair = try EmbeddedTLSPair(
            client: cluster.context(.client, "alice", mode: .client),
            server: cluster.context(.coordinator, "c1", mode: .server))
        try pair.activate()
        try pair.exchange()
        let forged = [0x17, 0x03, 0x03, 0x00, 0x20] + (0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try pair.server.writeInbound(ByteBuffer(bytes: forged))
        #expect(!pair.server.isActive)
        guard case .readFailed = pair.serverErrors.first as? TLSError else {
            Issue.record("expected a read failure, got \(pair.serverErrors)")
            return
        }
    }

    @Test func clientRefusesAServerFromAnotherCA() throws {
        let other = try TestPKI.otherCA(in: cluster.directory.url)
        let impostor = try other.node(.coordinator, "c1").context(.server, trustRoots: cluster.pki.caCertificate)
        let pair = try EmbeddedTLSPair(client: cluster.context(.client, "alice", mode: .client), server: impostor)
        try pair.activate()
        try pair.exchange()
        #expect(pair.clientSaw.compactMap(\.peer).isEmpty)
        #expect(!pair.client.isActive)
        guard case .handshakeFailed(let stack) = pair.clientErrors.first as? TLSError else {
            Issue.record("expected a handshake failure, got \(pair.clientErrors)")
            return
        }
        #expect(stack.contains { $0.contains("unable to get local issuer certificate") })
    }

    /// A lone server handler on an active channel, with what reached the top of its pipeline.
    private func serverChannel(_ context: TLSContext) throws -> (channel: EmbeddedChannel, errors: ErrorLog) {
        let errors = ErrorLog()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            TLSHandler(context: context, mode: .server),
            ObservingHandler { if let error = $0.error { errors.append(error) } })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, errors)
    }
}

final class ErrorLog {
    private(set) var errors: [any Error] = []
    func append(_ error: any Error) { errors.append(error) }
    var isEmpty: Bool { errors.isEmpty }
    var first: (any Error)? { errors.first }
}

/// SplitMix64: the same bytes on every run.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
