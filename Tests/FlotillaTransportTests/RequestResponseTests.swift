import FlotillaPKI
import FlotillaProto
import FlotillaTransport
import Testing

@Suite struct RequestResponseTests {
    @Test func mutualHandshakeThenRequestsAndErrors() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let service = TestService()
        let server = try await harness.server(service: service)
        let client = try await harness.connect(to: server, as: .client, "alice")
        #expect(client.server.name == "c1")
        #expect(client.server.version == 1)

        var submit = Flotilla_V1_SubmitJobRequest()
        submit.spec.model = "mochi-1"
        submit.spec.idempotencyKey = "k1"
        let response = try await client.request(submit, expecting: Flotilla_V1_SubmitJobResponse.self)
        #expect(response.job.id == "job-k1")
        #expect(response.job.spec.model == "mochi-1")

        var get = Flotilla_V1_GetJobRequest()
        get.jobID = "nope"
        await #expect(throws: FlotillaError(.notFound, "no such job")) {
            try await client.request(get)
        }
        await client.close()
        await server.close()
    }

    @Test func anOversizedRequestIsRefusedAtOnceAndTheConnectionLives() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let client = try await harness.connect(to: server, as: .client, "alice")
        var submit = Flotilla_V1_SubmitJobRequest()
        submit.spec.model = "mochi-1"
        submit.spec.params["prompt"] = String(repeating: "x", count: 17 << 20)
        let started = ContinuousClock.now
        do {
            _ = try await client.request(submit)
            Issue.record("a 17 MiB request was sent")
        } catch let error as FlotillaError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("frame limit"))
        }
        #expect(ContinuousClock.now - started < .seconds(5), "refused only after a deadline")
        submit.spec.params = [:]
        submit.spec.idempotencyKey = "small"
        #expect(try await client.request(submit, expecting: Flotilla_V1_SubmitJobResponse.self).job.id == "job-small")
        await client.close()
        await server.close()
    }

    @Test func workerCertificateCannotCallAdmin() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let service = TestService()
        let server = try await harness.server(service: service)
        let worker = try await harness.connect(to: server, as: .worker, "w1")
        do {
            _ = try await worker.request(Flotilla_V1_ClusterStatusRequest())
            Issue.record("a worker's admin request succeeded")
        } catch let error as FlotillaError {
            #expect(error.code == .permissionDenied)
        }
        #expect(service.executedKinds.isEmpty, "nothing may run for a refused request")
        // The same connection still serves what a worker may send.
        _ = try await worker.request(Flotilla_V1_HeartbeatRequest())
        #expect(service.executedKinds == ["heartbeatRequest"])

        let admin = try await harness.connect(to: server, as: .admin, "ops")
        let status = try await admin.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
        #expect(status.cluster == "test")
        await worker.close()
        await admin.close()
        await server.close()
    }

    @Test func helloMustMatchTheCertificate() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        // A worker certificate claiming to be an admin in Hello.
        await #expect {
            _ = try await harness.connect(to: server, as: .worker, "w1", claiming: harness.identity(.admin, "w1"))
        } throws: { error in
            (error as? FlotillaError)?.code == .unauthenticated
        }
        await server.close()
    }

    @Test func deadlineExpiresLocally() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        let server = try await harness.server(service: TestService())
        let client = try await harness.connect(to: server, as: .client, "alice")
        var slow = Flotilla_V1_GetJobRequest()
        slow.jobID = "stuck"
        let started = ContinuousClock.now
        await #expect {
            _ = try await client.request(slow, timeout: .milliseconds(100))
        } throws: { error in
            (error as? FlotillaError)?.code == .deadlineExceeded
        }
        #expect(ContinuousClock.now - started < .seconds(20))  // the answer would take 30 s
        await client.close()
        await server.close()
    }

    @Test func inFlightCapAnswersResourceExhausted() async throws {
        let harness = try TransportHarness()
        defer { harness.directory.remove() }
        var configuration = TransportConfiguration()
        configuration.maxInFlight = 2
        let server = try await harness.server(service: TestService(), configuration: configuration)
        let client = try await harness.connect(to: server, as: .client, "alice")
        let slow = Flotilla_V1_GetJobRequest.with { $0.jobID = "slow" }
        let outcomes = await withTaskGroup(of: Flotilla_V1_ErrorCode?.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    do {
                        _ = try await client.request(slow, timeout: .seconds(5))
                        return nil
                    } catch {
                        return (error as? FlotillaError)?.code
                    }
                }
            }
            var codes: [Flotilla_V1_ErrorCode?] = []
            for await code in group { codes.append(code) }
            return codes
        }
        #expect(outcomes.filter { $0 == .resourceExhausted }.count == 1)
        #expect(outcomes.filter { $0 == .notFound }.count == 2)
        await client.close()
        await server.close()
    }
}
