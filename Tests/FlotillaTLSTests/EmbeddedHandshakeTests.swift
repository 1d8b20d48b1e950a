import FlotillaPKI
import FlotillaTLS
import Foundation
import NIOCore
import Testing

/// Client and server handlers back to back in memory: the handshake and data transfer.
struct EmbeddedHandshakeTests {
    let cluster: TestCluster
    let pair: EmbeddedTLSPair

    init() throws {
        cluster = try TestCluster()
        pair = try EmbeddedTLSPair(
            client: cluster.context(.client, "alice", mode: .client),
            server: cluster.context(.coordinator, "c1", mode: .server))
    }

    @Test func eachSideLearnsTheOthersIdentity() throws {
        try pair.activate()
        try pair.exchange()

        let clientSeen = try #require(pair.serverSaw.compactMap(\.peer).first)
        #expect(clientSeen.identity == NodeIdentity(cluster: cluster.pki.cluster, role: .client, name: "alice"))
        #expect(clientSeen.subject.contains("CN=alice"))
        #expect(clientSeen.protocolVersion == "TLSv1.3")
        #expect(clientSeen.notAfter > Date())
        let serverSeen = try #require(pair.clientSaw.compactMap(\.peer).first)
        #expect(serverSeen.identity == NodeIdentity(cluster: cluster.pki.cluster, role: .coordinator, name: "c1"))
        #expect(pair.clientErrors.isEmpty)
        #expect(pair.serverErrors.isEmpty)
    }

    @Test func plaintextFlowsBothWays() throws {
        try pair.activate()
        try pair.exchange()
        try pair.client.writeAndFlush(ByteBuffer("ping")).wait()
        try pair.exchange()
        #expect(pair.serverReceived == Array("ping".utf8))

        // Larger than a TLS record and than one delivery batch.
        let large = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try pair.server.writeAndFlush(ByteBuffer(bytes: large)).wait()
        try pair.exchange()
        #expect(pair.clientReceived == large)
    }

    @Test func bytesArrivingOneAtATimeAreReassembled() throws {
        try pair.activate()
        try pair.exchange(chunkSize: 1)
        #expect(pair.serverSaw.compactMap(\.peer).count == 1)
        #expect(pair.clientSaw.compactMap(\.peer).count == 1)

        try pair.client.writeAndFlush(ByteBuffer("fragmented request")).wait()
        try pair.server.writeAndFlush(ByteBuffer("fragmented response")).wait()
        try pair.exchange(chunkSize: 1)
        #expect(pair.serverReceived == Array("fragmented request".utf8))
        #expect(pair.clientReceived == Array("fragmented response".utf8))
        #expect(pair.clientErrors.isEmpty && pair.serverErrors.isEmpty)
    }

    @Test func writesBeforeTheHandshakeAreHeldThenSentInOrder() throws {
        // Written while the channel is not even active yet, and while the handshake runs.
        let first = pair.client.write(ByteBuffer("one,"))
        let second = pair.client.writeAndFlush(ByteBuffer("two,"))
        try pair.activate()
        let third = pair.client.writeAndFlush(ByteBuffer("three"))
        #expect(outcome(first) == nil && outcome(second) == nil && outcome(third) == nil)

        try pair.exchange()
        #expect(pair.serverReceived == Array("one,two,three".utf8))
        #expect(outcome(first)?.succeeded == true)
        #expect(outcome(second)?.succeeded == true)
        #expect(outcome(third)?.succeeded == true)
        // The server heard about the handshake before any data.
        #expect(pair.serverSaw.firstIndex { $0.peer != nil } == 0)
    }
}
