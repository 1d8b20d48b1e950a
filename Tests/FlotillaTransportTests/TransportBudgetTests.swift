import FlotillaPKI
import FlotillaProto
import FlotillaTransport
import FlotillaWire
import Testing

/// Budgets that bound what one peer can make a server hold (PROTOCOL.md §7.1).
@Suite struct TransportBudgetTests {
    @Test func connectionsPastTheRoleCapAreRejectedUntilOneCloses() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        var configuration = TransportConfiguration()
        configuration.maxConnectionsPerRole = [.client: 2]
        let server = try await harness.server(service: TestService(), configuration: configuration)
        let first = try await harness.connect(to: server, as: .client, "a")
        let second = try await harness.connect(to: server, as: .client, "b")
        do {
            _ = try await harness.connect(to: server, as: .client, "c")
            Issue.record("a third client connection was accepted")
        } catch let error as FlotillaError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("2 client connections"))
        }
        // Other roles have their own caps.
        let admin = try await harness.connect(to: server, as: .admin, "ops")
        _ = try await admin.request(Flotilla_V1_Ping())
        await first.close()
        // Wait for the server to see the close (an event, not a guess at how long it takes).
        let deadline = ContinuousClock.now + .seconds(5)
        while server.connectionCount > 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(server.connectionCount == 2)
        let third = try await harness.connect(to: server, as: .client, "c")
        _ = try await third.request(Flotilla_V1_Ping())
        for connection in [second, third, admin] { await connection.close() }
        await server.close()
    }

    /// A query kind carries a few fields: its limit is 8 KiB, not the 16 MiB frame maximum.
    @Test func aRequestOverItsKindsLimitIsRefusedLocallyAndTheConnectionLives() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let client = try await harness.connect(to: server, as: .client, "alice")
        var get = Flotilla_V1_GetJobRequest()
        get.jobID = String(repeating: "j", count: 9 << 10)
        do {
            _ = try await client.request(get)
            Issue.record("a 9 KiB GetJob was sent")
        } catch let error as FlotillaError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("\(MessageKind.getJobRequest.maxRequestPayload)-byte frame limit for its kind"))
        }
        _ = try await client.request(Flotilla_V1_Ping())
        await client.close()
        await server.close()
    }

    @Test func limitsByKindAndRole() {
        let wire = WireConfiguration()
        #expect(wire.payloadLimit(for: .listJobsRequest, flags: []) == 8 << 10)
        #expect(wire.payloadLimit(for: .listJobsResponse, flags: .response) == 16 << 20)
        #expect(wire.payloadLimit(for: .submitJobRequest, flags: []) == 1 << 20)
        let admission = PeerAdmission()
        // Before the handshake only Hello is admitted at its size.
        #expect(admission.limit(for: .raftMessage, flags: [], configuration: wire) == PeerAdmission.refusedKindLimit)
        admission.permitted = [.submitJobRequest]
        #expect(admission.limit(for: .submitJobRequest, flags: [], configuration: wire) == 1 << 20)
        #expect(admission.limit(for: .raftMessage, flags: [], configuration: wire) == PeerAdmission.refusedKindLimit)
    }
}
