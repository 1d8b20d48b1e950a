import FlotillaTLS
import NIOCore
import Testing

/// close_notify exchange, its timeout, and EOF without it.
struct EmbeddedClosingTests {
    let cluster: TestCluster
    let pair: EmbeddedTLSPair

    init() throws {
        cluster = try TestCluster()
        pair = try EmbeddedTLSPair(
            client: cluster.context(.client, "alice", mode: .client, closeTimeout: .seconds(5)),
            server: cluster.context(.coordinator, "c1", mode: .server))
        try pair.activate()
        try pair.exchange()
    }

    @Test func closeNotifyClosesBothSidesCleanly() throws {
        let closed = pair.client.close()
        #expect(outcome(closed) == nil)  // waiting for the server's close_notify
        try pair.exchange()
        #expect(outcome(closed)?.succeeded == true)
        #expect(!pair.client.isActive)
        #expect(!pair.server.isActive)
        #expect(pair.clientErrors.isEmpty)
        #expect(pair.serverErrors.isEmpty)
    }

    @Test func dataInFlightBeforeCloseNotifyIsDelivered() throws {
        let unflushed = pair.client.write(ByteBuffer("last words"))
        let closed = pair.client.close()
        try pair.exchange()
        #expect(pair.serverReceived == Array("last words".utf8))
        #expect(outcome(unflushed)?.succeeded == true)
        #expect(outcome(closed)?.succeeded == true)
    }

    @Test func closeGivesUpWaitingAfterTheCloseTimeout() throws {
        let closed = pair.client.close()
        _ = try pair.client.readOutbound(as: ByteBuffer.self)  // close_notify lost on the way
        pair.loop.advanceTime(by: .milliseconds(4_900))
        #expect(pair.client.isActive)
        pair.loop.advanceTime(by: .milliseconds(200))
        #expect(!pair.client.isActive)
        #expect(outcome(closed)?.succeeded == true)
    }

    @Test func endOfStreamWithoutCloseNotifyIsAnUncleanShutdown() throws {
        pair.server.pipeline.fireChannelInactive()
        #expect(pair.serverErrors.compactMap { $0 as? TLSError } == [.uncleanShutdown])
    }

    @Test func writesAfterCloseFail() throws {
        _ = pair.client.close()
        let late = pair.client.writeAndFlush(ByteBuffer("too late"))
        #expect(outcome(late)?.succeeded == false)
    }
}
