import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Certificate rotation: new files, reload, new connections get them, old ones carry on.
struct ReloadTests {
    let cluster: TestCluster
    let live: URL
    let server: TLSContext

    /// The server reads its files from `live`, which starts with c1's certificate.
    init() throws {
        cluster = try TestCluster()
        live = cluster.directory.appending("live")
        try cluster.pki.node(.coordinator, "c1").install(into: live)
        server = try NodeTLSFiles(identity: cluster.pki.node(.coordinator, "c1").identity, directory: live).context(.server)
    }

    private func connect(to listener: LoopbackEndpoint) async throws -> (LoopbackEndpoint, NodeIdentity?) {
        let client = try await Loopback.client(port: listener.port, cluster.context(.client, "alice", mode: .client))
        return (client, try await client.observations.handshake().identity)
    }

    private func roundTrip(_ client: LoopbackEndpoint, _ text: String) async throws -> String {
        try await client.channel.writeAndFlush(ByteBuffer(text))
        return String(decoding: try await client.observations.read(count: text.utf8.count), as: UTF8.self)
    }

    @Test func newConnectionsGetTheNewCertificateWhileOldOnesKeepWorking() async throws {
        let listener = try await Loopback.server(server)
        let (old, before) = try await connect(to: listener)
        #expect(before?.name == "c1")

        try cluster.pki.node(.coordinator, "c2").install(into: live)
        try server.reload()

        let (fresh, after) = try await connect(to: listener)
        #expect(after?.name == "c2")
        #expect(try await roundTrip(old, "old connection") == "old connection")
        #expect(try await roundTrip(fresh, "new connection") == "new connection")
        await old.close()
        await fresh.close()
        await listener.close()
    }

    @Test func failedReloadKeepsThePreviousCertificate() async throws {
        let listener = try await Loopback.server(server)
        let certificate = live.appendingPathComponent(IssuedCertificate.certificateFileName)
        try Data("not a certificate".utf8).write(to: certificate)

        #expect {
            try server.reload()
        } throws: { error in
            guard case .cannotLoad(.certificateChain, let path, let stack) = error as? TLSError else { return false }
            return path == certificate.path && !stack.isEmpty
        }
        let (client, identity) = try await connect(to: listener)
        #expect(identity?.name == "c1")
        await client.close()
        await listener.close()
    }

    @Test func sighupReloadsTheContexts() async throws {
        let listener = try await Loopback.server(server)
        let reports = AsyncStream.makeStream(of: String.self)
        let reloader = SighupReloader(contexts: [server]) { reports.continuation.yield($0) }
        defer { reloader.cancel() }

        try cluster.pki.node(.coordinator, "c2").install(into: live)
        kill(getpid(), SIGHUP)
        let report = try await withDeadline(.seconds(10), waitingFor: "the SIGHUP reload") {
            for await line in reports.stream { return line }
            return "stream ended"
        }
        #expect(report.hasPrefix("reloaded"), "\(report)")

        let (client, identity) = try await connect(to: listener)
        #expect(identity?.name == "c2")
        await client.close()
        await listener.close()
    }
}
