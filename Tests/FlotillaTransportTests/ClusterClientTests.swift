import FlotillaProto
import FlotillaTransport
import Testing

@Suite struct ClusterClientTests {
    @Test func skipsDeadAddressesAndFollowsLeaderHints() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let leader = try await harness.server(service: TestService(), name: "leader")
        let follower = try await harness.server(service: TestService(notLeaderHint: "127.0.0.1:\(leader.port)"), name: "follower")
        // Nothing listens on port 1; then the follower, which redirects to the leader.
        let client = ClusterClient(
            endpoints: [Endpoint(host: "127.0.0.1", port: 1), Endpoint(host: "127.0.0.1", port: follower.port)],
            tls: try harness.tls(.client, "alice", mode: .client), local: .init(identity: harness.identity(.client, "alice")),
            backoff: Backoff(initialMilliseconds: 5, maximumMilliseconds: 20))
        var submit = Flotilla_V1_SubmitJobRequest()
        submit.spec.idempotencyKey = "k"
        let response = try await client.request(submit, expecting: Flotilla_V1_SubmitJobResponse.self)
        #expect(response.job.id == "job-k")
        #expect(await client.connectedEndpoint == Endpoint(host: "127.0.0.1", port: leader.port))
        await client.close()
        await leader.close()
        await follower.close()
    }

    @Test func reconnectsAfterTheServerRestarts() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let first = try await harness.server(service: TestService())
        let port = first.port
        let client = ClusterClient(
            endpoints: [Endpoint(host: "127.0.0.1", port: port)],
            tls: try harness.tls(.client, "alice", mode: .client), local: .init(identity: harness.identity(.client, "alice")),
            backoff: Backoff(initialMilliseconds: 5, maximumMilliseconds: 50), connectAttempts: 40)
        _ = try await client.request(Flotilla_V1_Ping())
        await first.close()  // closes the client's connection too
        let second = try await FlotillaServer.start(
            host: "127.0.0.1", port: port, tls: try harness.tls(.coordinator, "c1", mode: .server),
            local: .init(identity: harness.identity(.coordinator, "c1")), service: TestService())
        _ = try await client.request(Flotilla_V1_Ping())
        await client.close()
        await second.close()
    }
}

@Suite struct BackoffTests {
    @Test func ceilingsDoubleUpToTheMaximum() {
        let backoff = Backoff(initialMilliseconds: 100, multiplier: 2, maximumMilliseconds: 1000)
        #expect((0..<6).map { backoff.ceiling(attempt: $0) } == [100, 200, 400, 800, 1000, 1000])
    }

    @Test func jitterStaysWithinTheCeiling() {
        var generator = SplitMix(seed: 7)
        let backoff = Backoff()
        for attempt in 0..<20 {
            let delay = backoff.delay(attempt: attempt, using: &generator)
            #expect(delay >= 0 && delay <= backoff.ceiling(attempt: attempt))
        }
        var first = SplitMix(seed: 7)
        var second = SplitMix(seed: 7)
        #expect(backoff.delay(attempt: 3, using: &first) == backoff.delay(attempt: 3, using: &second))
    }
}

/// A seeded generator so jitter is reproducible.
struct SplitMix: RandomNumberGenerator {
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
