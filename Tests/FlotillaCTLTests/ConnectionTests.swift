import FlotillaProto
import FlotillaTransport
import Foundation
import Testing

@Suite struct ConnectionTests {
    static let getJob: FakeCoordinator.Script = { message in
        guard let get = message as? Flotilla_V1_GetJobRequest else { return .failure(FlotillaError(.internal, "?")) }
        guard get.jobID == "j-1" else { return .failure(FlotillaError(.notFound, "job \(get.jobID) not found")) }
        var response = Flotilla_V1_GetJobResponse()
        response.job = JobFixtures.queued("j-1")
        return .message(response)
    }

    /// This process's environment without any FLOTILLA_* variable a developer may have set.
    static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FLOTILLA_") || $0.key == "FLOTILLA_PRODUCTS_DIR" }
            .merging(extra) { $1 }
    }

    @Test func environmentVariablesStandInForFlags() async throws {
        try await CtlHarness.with(Self.getJob) { harness in
            let files = try harness.pki.node(.client, "alice")
            let environment = Self.cleanEnvironment([
                "FLOTILLA_ADDR": harness.address, "FLOTILLA_CACERT": files.caCertificate.path,
                "FLOTILLA_CLIENT_CERT": files.certificate.path, "FLOTILLA_CLIENT_KEY": files.privateKey.path,
            ])
            let result = try await flotillactl(["jobs", "get", "j-1"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("ID:                j-1"))

            // A flag wins over its variable: the variable's address answers nothing.
            var unreachable = environment
            unreachable["FLOTILLA_ADDR"] = "127.0.0.1:1"
            let flagged = try await flotillactl(["jobs", "get", "j-1", "--addr", harness.address], environment: unreachable)
            #expect(flagged.status == 0, "\(flagged.stderr)")
            #expect(harness.coordinator.requests.count == 2)
        }
    }

    @Test func missingTLSMaterialNamesTheFlagAndTheVariable() async throws {
        let result = try await flotillactl(["jobs", "list"], environment: Self.cleanEnvironment())
        #expect(result.status == 64)
        #expect(result.stderr == "flotillactl: no cluster CA certificate: pass --cacert FILE or set FLOTILLA_CACERT\n")
        let noKey = try await flotillactl(
            ["status", "--cacert", "/dev/null", "--cert", "/dev/null"], environment: Self.cleanEnvironment())
        #expect(noKey.status == 64)
        #expect(noKey.stderr == "flotillactl: no client private key: pass --key FILE or set FLOTILLA_CLIENT_KEY\n")
        let badAddress = try await flotillactl(["status", "--addr", "nowhere"], environment: Self.cleanEnvironment())
        #expect(badAddress.status == 64)
        #expect(badAddress.stderr.contains("invalid coordinator address 'nowhere' (--addr or FLOTILLA_ADDR)"))
    }

    @Test func anUnreachableCoordinatorFailsFast() async throws {
        try await CtlHarness.with(Self.getJob) { harness in
            let started = ContinuousClock.now
            let result = try await flotillactl(["jobs", "list"] + harness.flags().map { $0 == harness.address ? "127.0.0.1:1" : $0 })
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("flotillactl: cannot reach a coordinator at 127.0.0.1:1 ("), "\(result.stderr)")
            #expect(result.stderr.hasSuffix("): is it running?\n"))
        }
    }

    @Test func notFoundNamesTheJob() async throws {
        try await CtlHarness.with(Self.getJob) { harness in
            let result = try await harness.run(["jobs", "get", "j-404"], as: .client)
            #expect(result.status == 1)
            #expect(result.stderr == "flotillactl: no job j-404\n")
            let watch = try await harness.run(["jobs", "watch", "j-404"], as: .client)
            #expect(watch.status == 1)
            #expect(watch.stderr == "flotillactl: no job j-404\n")
        }
    }

    @Test func refusalsCarryTheCodeAndTheServersMessage() async throws {
        let script: FakeCoordinator.Script = { message in
            guard let submit = message as? Flotilla_V1_SubmitJobRequest else { return .failure(FlotillaError(.internal, "?")) }
            switch submit.spec.model {
            case "mochi-1":
                return .failure(FlotillaError(.breakerOpen, "the breaker of mochi-1 is open", retryAfterMilliseconds: 30_000))
            case "big":
                return .failure(FlotillaError(.invalidArgument, "gpu_count 9 exceeds the 8 GPUs of worker w-1"))
            default:
                return .failure(FlotillaError(.resourceExhausted, "tenant hobby has 10 jobs queued, its limit"))
            }
        }
        try await CtlHarness.with(script) { harness in
            let breaker = try await harness.run(["jobs", "submit", "--model", "mochi-1"], as: .client)
            #expect(breaker.status == 1)
            #expect(breaker.stderr == "flotillactl: BREAKER_OPEN: the breaker of mochi-1 is open (retry after 30s)\n")
            let invalid = try await harness.run(["jobs", "submit", "--model", "big", "--gpus", "9"], as: .client)
            #expect(invalid.stderr == "flotillactl: INVALID_ARGUMENT: gpu_count 9 exceeds the 8 GPUs of worker w-1\n")
            let quota = try await harness.run(["jobs", "submit", "--model", "sdxl"], as: .client)
            #expect(quota.stderr == "flotillactl: RESOURCE_EXHAUSTED: tenant hobby has 10 jobs queued, its limit\n")
        }
    }

    @Test func aTenantRefusalNamesTheCertificateNotItsRole() async throws {
        let refusal = FlotillaError(.permissionDenied,
                                    "this certificate is bound to tenant default; it may not submit jobs for tenant acme")
        try await CtlHarness.with({ _ in .failure(refusal) }) { harness in
            let result = try await harness.run(["jobs", "submit", "--model", "sdxl", "--tenant", "acme"], as: .client)
            #expect(result.status == 1)
            #expect(result.stderr == "flotillactl: the certificate flotilla://\(harness.pki.cluster)/client/alice may not do this "
                        + "(PERMISSION_DENIED: \(refusal.message))\n")
        }
    }

    @Test func aFollowerWithNoKnownLeaderIsReported() async throws {
        try await CtlHarness.with({ _ in .failure(FlotillaError(.notLeader, "not the leader")) }) { harness in
            let result = try await harness.run(["jobs", "get", "j-1"], as: .client)
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix(
                "flotillactl: coordinator at \(harness.address) is not the leader; the leader is not known"), "\(result.stderr)")
            #expect(harness.coordinator.requests.count == 1 + ClusterClient.maxRedirects)
        }
    }
}
