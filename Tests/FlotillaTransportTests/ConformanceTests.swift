import FlotillaPKI
import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaTransport
import FlotillaWire
import NIOCore
import Testing

/// Places where the code and PROTOCOL.md disagreed (issue 8, item 10).
@Suite struct ConformanceTests {
    static func bytes(_ message: Flotilla_V1_Hello, correlationID: UInt64) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try FrameEncoder().encode(try Envelope(message, correlationID: correlationID).frame(), into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// §6.1: Hello is a request. Before, a one-way Hello (correlation id 0) was accepted.
    @Test func aOneWayHelloIsRejected() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let raw = try await RawPeer.connect(port: server.port, tls: try harness.tls(.client, "mallory", mode: .client))
        let hello = HandshakeNegotiation.hello(
            from: LocalNode(identity: NodeIdentity(cluster: "test", role: .client, name: "mallory")))
        try await RawPeer.send(try Self.bytes(hello, correlationID: 0), on: raw)
        #expect(await RawPeer.closedByPeer(raw, within: .seconds(5)))
        await server.close()
    }

    /// §5.7: when the server closes, an open stream ends with an end frame (UNAVAILABLE
    /// from the server), not by the connection simply vanishing.
    @Test func closingTheServerEndsOpenStreamsWithAnEndFrame() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let client = try await harness.connect(to: server, as: .client, "alice")
        var watch = Flotilla_V1_WatchJobRequest()
        watch.jobID = "forever"
        let events = client.stream(watch)
        var iterator = events.makeAsyncIterator()
        _ = try await iterator.next()
        #expect(server.connectionCount == 1)
        await server.close()
        do {
            while try await iterator.next() != nil {}
            Issue.record("the stream ended without an error")
        } catch let error as FlotillaError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("shutting down"), "ended by connection loss, not by the server: \(error)")
        }
        #expect(server.connectionCount == 0)
    }

    /// §3.7: before closing on an undecodable message the server sends one Error with
    /// correlation id 0 (before, it carried the request's id), and the client reports it.
    @Test func anUndecodableRequestIsAnsweredOnIdZeroThenClosed() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let client = try await harness.connect(to: server, as: .client, "alice")
        // A GetJobRequest frame whose payload is not protobuf: a truncated varint.
        try await RawFrames.send(RawFrames.frame(kind: .getJobRequest, correlationID: 41, payload: [0x0a]), on: client)
        let channel = client.channel
        #expect(await RawPeer.closedByPeer(channel, within: .seconds(5)))
        do {
            _ = try await client.request(Flotilla_V1_Ping())
            Issue.record("a request on the closed connection succeeded")
        } catch let error as FlotillaError {
            // The server's Error on id 0, not the local "connection closed".
            #expect(error.code == .invalidArgument, "\(error)")
        }
        await server.close()
    }
}
