import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import NIOCore
import Testing

/// Mutual TLS over real sockets on 127.0.0.1: who gets in and who does not.
struct LoopbackHandshakeTests {
    let cluster: TestCluster

    init() throws {
        cluster = try TestCluster()
    }

    @Test func mutualHandshakeSucceedsAndBothSidesSeeThePeer() async throws {
        let server = try await Loopback.server(cluster.context(.coordinator, "c1", mode: .server))
        let client = try await Loopback.client(port: server.port, cluster.context(.client, "alice", mode: .client))

        let serverSeen = try await client.observations.handshake()
        #expect(serverSeen.identity == NodeIdentity(cluster: cluster.pki.cluster, role: .coordinator, name: "c1"))
        let clientSeen = try await server.observations.handshake()
        #expect(clientSeen.identity == NodeIdentity(cluster: cluster.pki.cluster, role: .client, name: "alice"))
        #expect(clientSeen.protocolVersion == "TLSv1.3")

        try await client.channel.writeAndFlush(ByteBuffer("echo me"))
        #expect(try await client.observations.read(count: 7) == Array("echo me".utf8))

        // A clean close: the server sees close_notify, answers it, and reports no error.
        try await client.channel.close()
        let serverEnd = try await server.observations.next("the server side to end") { $0.error != nil || $0.isClosed }
        #expect(serverEnd.error == nil, "server reported \(String(describing: serverEnd.error))")
        await server.close()
    }

    @Test func clientCertificateFromAnotherCAIsRefused() async throws {
        let server = try await Loopback.server(cluster.context(.coordinator, "c1", mode: .server))
        let other = try TestPKI.otherCA(in: cluster.directory.url, cluster: cluster.pki.cluster)
        // Trusts the real CA, so only the server's check can stop it.
        let mallory = try other.node(.client, "mallory").context(.client, trustRoots: cluster.pki.caCertificate)
        let client = try await Loopback.client(port: server.port, mallory)

        let refusal = try #require(try await server.observations.error() as? TLSError)
        guard case .handshakeFailed(let stack) = refusal else { Issue.record("unexpected \(refusal)"); return }
        #expect(stack.contains { $0.contains("unable to get local issuer certificate") }, "\(stack)")
        try await client.channel.closed()
        await server.close()
    }

    @Test func expiredClientCertificateIsRefused() async throws {
        let server = try await Loopback.server(cluster.context(.coordinator, "c1", mode: .server))
        let expired = try cluster.pki.expired(.client, "old").context(.client)
        let client = try await Loopback.client(port: server.port, expired)

        let refusal = try #require(try await server.observations.error() as? TLSError)
        guard case .handshakeFailed(let stack) = refusal else { Issue.record("unexpected \(refusal)"); return }
        #expect(stack.contains { $0.contains("certificate has expired") }, "\(stack)")
        try await client.channel.closed()
        await server.close()
    }

    @Test func plaintextOnTheTLSPortIsClosedAndOthersAreStillServed() async throws {
        let server = try await Loopback.server(cluster.context(.coordinator, "c1", mode: .server))
        let raw = try await Loopback.client(port: server.port, nil)
        try await raw.channel.writeAndFlush(ByteBuffer("GET / HTTP/1.1\r\nHost: c1\r\n\r\n"))
        try await raw.channel.closed()
        guard case .handshakeFailed = try await server.observations.error() as? TLSError else {
            Issue.record("expected a handshake failure")
            return
        }

        let client = try await Loopback.client(port: server.port, cluster.context(.client, "alice", mode: .client))
        _ = try await client.observations.handshake()
        try await client.channel.writeAndFlush(ByteBuffer("still here"))
        #expect(try await client.observations.read(count: 10) == Array("still here".utf8))
        await client.close()
        await server.close()
    }

    @Test func silentClientIsClosedByTheHandshakeTimeout() async throws {
        let server = try await Loopback.server(
            cluster.context(.coordinator, "c1", mode: .server, handshakeTimeout: .milliseconds(300)))
        let silent = try await Loopback.client(port: server.port, nil)
        try await silent.channel.closed(within: .seconds(5))
        #expect(try await server.observations.error() as? TLSError == .handshakeTimeout)
        await server.close()
    }
}
