import FlotillaProto
import FlotillaTransport
import NIOCore
import Testing

@Suite struct MisbehavingPeerTests {
    /// A 16-byte frame header declaring a 1 GiB payload: over any maximum.
    static let oversizedHeader: [UInt8] = [0x40, 0, 0, 0, 1, 0, 0, 5] + [UInt8](repeating: 0, count: 8)

    @Test func garbageAfterTLSClosesOnlyThatConnection() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let good = try await harness.connect(to: server, as: .client, "alice")

        let raw = try await RawPeer.connect(port: server.port, tls: try harness.tls(.client, "mallory", mode: .client))
        try await RawPeer.send(Self.oversizedHeader, on: raw)
        #expect(await RawPeer.closedByPeer(raw, within: .seconds(5)))

        _ = try await good.request(Flotilla_V1_Ping())
        #expect(good.isActive)
        await good.close()
        await server.close()
    }

    @Test func plaintextOnTheTLSPortIsRefused() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let raw = try await RawPeer.connect(port: server.port)
        try await RawPeer.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), on: raw)
        #expect(await RawPeer.closedByPeer(raw, within: .seconds(5)))
        // The listener still accepts real clients.
        let good = try await harness.connect(to: server, as: .client, "alice")
        _ = try await good.request(Flotilla_V1_Ping())
        await good.close()
        await server.close()
    }

    @Test func silentPeerIsClosedByTheHandshakeTimeout() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        var configuration = TransportConfiguration()
        configuration.handshakeTimeout = .milliseconds(300)
        let server = try await harness.server(service: TestService(), configuration: configuration)
        // TLS completes but no Hello ever comes.
        let raw = try await RawPeer.connect(port: server.port, tls: try harness.tls(.client, "quiet", mode: .client))
        #expect(await RawPeer.closedByPeer(raw, within: .seconds(5)))
        await server.close()
    }

    @Test func idleConnectionsAreClosedAndPingsKeepThemOpen() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        var configuration = TransportConfiguration()
        configuration.idleTimeout = .seconds(1)
        let server = try await harness.server(service: TestService(), configuration: configuration)
        // This client believes the idle timeout is long, so it never pings: closed.
        let silent = try await harness.connect(to: server, as: .client, "silent")
        #expect(await RawPeer.closedByPeer(silent.channel, within: .seconds(5)))
        // This one pings every idle/3: still open after several idle periods.
        let chatty = try await harness.connect(to: server, as: .client, "chatty", configuration: configuration)
        try await Task.sleep(nanoseconds: 3_000_000_000)
        #expect(chatty.isActive)
        await chatty.close()
        await server.close()
    }
}
