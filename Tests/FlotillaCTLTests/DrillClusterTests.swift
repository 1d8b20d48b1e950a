import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

/// `flotillactl drill` against a coordinator double: what goes on the wire, what is
/// printed, and the exit status a cron job or CI step sees.
@Suite struct DrillClusterTests {
    /// Answers every DrillRequest with `answer`, ListDrills with two drills and GetDrill for d-42.
    static func script(answer: Flotilla_V1_DrillReport = DrillFixtures.failedKill) -> FakeCoordinator.Script {
        { message in
            switch message {
            case is Flotilla_V1_DrillRequest:
                return .message(answer)
            case is Flotilla_V1_ListDrillsRequest:
                return .message(Flotilla_V1_ListDrillsResponse.with { $0.drills = [DrillFixtures.passedSlow, DrillFixtures.failedKill] })
            case let get as Flotilla_V1_GetDrillRequest:
                guard get.id == "d-42" else { return .failure(FlotillaError(.notFound, "drill \(get.id) is not kept")) }
                return .message(DrillFixtures.failedKill)
            default:
                return .failure(FlotillaError(.failedPrecondition, "not scripted"))
            }
        }
    }

    @Test func waitPrintsTheFullReportAndExitsWithTheVerdict() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            let result = try await harness.run(["drill", "kill-worker", "--target", "w-3", "--wait", "--drill-timeout", "60s"])
            #expect(result.status == 1, "FAIL: \(result.stderr)")
            #expect(result.stderr.isEmpty)
            #expect(result.stdout.hasPrefix("Drill:      d-42\nKind:       kill-worker\nVerdict:    FAIL\n"))
            #expect(result.stdout.contains("\nJobs:\nJOB  BEFORE  AFTER"))
            #expect(result.stdout.hasSuffix("\nVerdict: FAIL: job j-2 failed\n"))
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_DrillRequest.self).first)
            #expect(request.kind == .killWorker)
            #expect(request.target == "w-3")
            #expect(request.timeoutMs == 60_000)
            #expect(!request.detach)
        }
    }

    @Test func detachedDrillSaysWhereToFollowIt() async throws {
        try await CtlHarness.with(Self.script(answer: DrillFixtures.running)) { harness in
            let result = try await harness.run(["drill", "kill-worker"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("Verdict:    RUNNING\n"))
            #expect(result.stdout.contains("Blast radius:\n  - 2 of 3 workers stay READY\n"))
            #expect(result.stdout.hasSuffix("\nThe drill runs on; see how it ends with `flotillactl drill show d-44`.\n"))
            #expect(!result.stdout.contains("Timeline:"), "a summary, not the report so far")
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_DrillRequest.self).first)
            #expect(request.detach)
            #expect(request.target.isEmpty, "the coordinator chooses")
        }
    }

    @Test func refusedExitsThreeWithAndWithoutJSON() async throws {
        try await CtlHarness.with(Self.script(answer: DrillFixtures.refused)) { harness in
            let text = try await harness.run(["drill", "fail-zone", "--zone", "eu-1a", "--duration", "30s"])
            #expect(text.status == 3, "\(text.stderr)")
            #expect(text.stdout.hasSuffix("Verdict: REFUSED: failing zone eu-1a leaves 0 of 2 workers READY\n"))
            let json = try await harness.run(["drill", "fail-zone", "--zone", "eu-1a", "--wait", "--json"])
            #expect(json.status == 3)
            #expect(try Flotilla_V1_DrillReport(jsonString: json.stdout) == DrillFixtures.refused)
            #expect(json.stdout.contains("\"verdict\":\"DRILL_VERDICT_REFUSED\""))
            let requests = harness.coordinator.requests(of: Flotilla_V1_DrillRequest.self)
            #expect(requests.map(\.zone) == ["eu-1a", "eu-1a"])
            #expect(requests.map(\.durationMs) == [30_000, 0])
            #expect(requests.map(\.kind) == [.failZone, .failZone])
        }
    }

    @Test func usageErrorsSendNothing() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            let zone = try await harness.run(["drill", "kill-worker", "--zone", "eu-1a"])
            #expect(zone.status == 64)
            #expect(zone.stderr.contains("--zone does not apply to kill-worker; it is for fail-zone"), "\(zone.stderr)")
            let missing = try await harness.run(["drill", "fail-zone"])
            #expect(missing.status == 64)
            #expect(missing.stderr.contains("fail-zone needs --zone ZONE"))
            #expect(harness.coordinator.requests.isEmpty)
        }
    }

    @Test func listAndShow() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            let list = try await harness.run(["drill", "list", "--limit", "5"])
            #expect(list.status == 0, "\(list.stderr)")
            let lines = list.stdout.split(separator: "\n").map(String.init)
            #expect(lines.map { words($0).first ?? "" } == ["ID", "d-43", "d-42"])
            #expect(words(lines[2]).suffix(3) == ["4.2s", "18.9s", "ops"])
            #expect(harness.coordinator.requests(of: Flotilla_V1_ListDrillsRequest.self).map(\.limit) == [5])

            let json = try await harness.run(["drill", "list", "--json"])
            #expect(try Flotilla_V1_ListDrillsResponse(jsonString: json.stdout).drills.map(\.id) == ["d-43", "d-42"])

            let show = try await harness.run(["drill", "show", "d-42"])
            #expect(show.status == 0, "show reports; it does not judge")
            #expect(show.stdout.contains("\nDetection: 4.2s from the injection to SUSPECT or LOST\n"))
            #expect(harness.coordinator.requests(of: Flotilla_V1_GetDrillRequest.self).map(\.id) == ["d-42"])

            let unknown = try await harness.run(["drill", "show", "d-9"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr == "flotillactl: no drill d-9\n")
        }
    }

    @Test func drillCommandsNeedAnAdminCertificate() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            for command in [["drill", "kill-worker"], ["drill", "list"], ["drill", "show", "d-42"]] {
                let result = try await harness.run(command, as: .client)
                #expect(result.status == 1, "\(command)")
                #expect(result.stderr.contains("need an admin certificate"), "\(result.stderr)")
            }
            #expect(harness.coordinator.requests.isEmpty)
        }
    }

    /// The answer to a waited drill comes when it ends, long after --timeout; detached, --timeout holds.
    @Test func waitOutlastsTimeoutButDetachedDoesNot() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            let slow = try await SlowDrillService(delay: .milliseconds(2_500), answer: DrillFixtures.passedSlow)
                .start(pki: harness.pki)
            var flags = try harness.flags()
            flags[1] = "127.0.0.1:\(slow.port)"
            let waited = try await flotillactl(["drill", "slow-worker", "--wait", "--timeout", "1"] + flags)
            #expect(waited.status == 0, "\(waited.stderr)")
            #expect(waited.stdout.hasSuffix("Verdict: PASS: throughput held\n"))
            let detached = try await flotillactl(["drill", "slow-worker", "--timeout", "1"] + flags)
            #expect(detached.status == 1)
            #expect(
                detached.stderr.hasPrefix("flotillactl: no report from the coordinator at 127.0.0.1:"), "\(detached.stderr)")
            #expect(detached.stderr.hasSuffix("within 1s; the drill may still be running: see `flotillactl drill list`\n"))
            await slow.close()
        }
    }
}

/// A coordinator that answers every request with `answer` after `delay`.
private struct SlowDrillService: FlotillaService {
    let delay: Duration
    let answer: Flotilla_V1_DrillReport

    /// A server for it on a free port, with a coordinator certificate from `pki`.
    func start(pki: TestPKI) async throws -> FlotillaServer {
        let files = try pki.node(.coordinator, "c-slow")
        let tls = try TLSContext(
            configuration: TLSConfiguration(
                certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                trustRootsPath: files.caCertificate.path),
            mode: .server)
        return try await FlotillaServer.start(
            host: "127.0.0.1", port: 0, tls: tls, local: LocalNode(identity: files.identity), service: self)
    }

    func handle(_ request: InboundRequest) async -> ServiceReply {
        try? await Task.sleep(for: delay)
        return .message(answer)
    }
}
