import FlotillaProto
import FlotillaTransport
import NIOCore
import Testing

@Suite struct StreamTests {
    @Test func watchStreamsEventsThenEnds() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let client = try await harness.connect(to: server, as: .client, "alice")
        var watch = Flotilla_V1_WatchJobRequest()
        watch.jobID = "job-1"
        var steps: [UInt64] = []
        for try await item in client.stream(watch) {
            steps.append(try #require(item as? Flotilla_V1_JobEvent).step)
        }
        #expect(steps == [1, 2, 3])
        // The connection still serves requests after a stream ended.
        _ = try await client.request(Flotilla_V1_Ping())
        await client.close()
        await server.close()
    }

    @Test func cancellingAStreamStopsTheServerSide() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let service = TestService()
        let server = try await harness.server(service: service)
        let client = try await harness.connect(to: server, as: .client, "alice")
        var watch = Flotilla_V1_WatchJobRequest()
        watch.jobID = "forever"
        var received = 0
        for try await _ in client.stream(watch) {
            received += 1
            if received == 5 { break }
        }
        #expect(received == 5)
        for _ in 0..<200 where !service.streamCancelled.withLockedValue({ $0 }) {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(service.streamCancelled.withLockedValue { $0 })
        await client.close()
        await server.close()
    }
}
