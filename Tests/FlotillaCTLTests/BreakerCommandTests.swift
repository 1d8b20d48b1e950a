@testable import FlotillaCTL
import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

@Suite struct BreakerCommandTests {
    @Test func breakersListsStateProbesAndFallbacks() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["breakers"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 4, "\(result.stdout)")
            #expect(words(lines[0]) == ["MODEL", "STATE", "FAILURES", "NEXT", "PROBES", "FALLBACK"])
            #expect(words(lines[1]) == ["mochi-1", "OPEN", "5", "in", "12s", "-", "open-sora", "->", "cogvideo"])
            #expect(lines[1].hasSuffix("open-sora -> cogvideo"))
            #expect(words(lines[2]) == ["sdxl", "CLOSED", "1", "-", "-", "-"])
            #expect(words(lines[3]) == ["open-sora", "HALF_OPEN", "0", "-", "1/3", "ok,", "2", "in", "flight", "-"])
            #expect(lines[3].contains("1/3 ok, 2 in flight"))
            // Aligned: every row's STATE starts where the header's does.
            let column = try #require(lines[0].range(of: "STATE")).lowerBound.utf16Offset(in: lines[0])
            for line in lines.dropFirst() {
                #expect(line.dropFirst(column).first != " " && line.dropFirst(column - 1).first == " ", "\(line)")
            }
            #expect(harness.coordinator.requests(of: Flotilla_V1_ListBreakersRequest.self).count == 1)
        }
    }

    @Test func breakersJSONParsesBackToTheServedBreakers() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["breakers", "list", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").count == 1, "one document")
            let response = try Flotilla_V1_ListBreakersResponse(jsonString: result.stdout)
            #expect(response.breakers == AdminFixtures.breakers)
            #expect(result.stdout.contains("\"state\":\"BREAKER_STATE_HALF_OPEN\""))

            let bare = try await harness.run(["breakers", "--json"])
            #expect(try Flotilla_V1_ListBreakersResponse(jsonString: bare.stdout) == response)
        }
    }

    @Test func noBreakersSaysSo() async throws {
        let plane = FakeAdminPlane(breakers: [])
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["breakers"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "no breakers\n")
        }
    }

    @Test func tripSendsTripAndPrintsTheOpenBreaker() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["breakers", "trip", "sdxl"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "breaker sdxl: OPEN (half-open in 30s)\n")
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_BreakerActionRequest.self).first)
            #expect(request.model == "sdxl")
            #expect(request.action == .trip)
            #expect(plane.breakers.first { $0.model == "sdxl" }?.state == .open)
        }
    }

    @Test func resetSendsResetAndPrintsTheClosedBreaker() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["breakers", "reset", "mochi-1"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "breaker mochi-1: CLOSED\n")
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_BreakerActionRequest.self).first)
            #expect(request.model == "mochi-1")
            #expect(request.action == .reset)
            #expect(plane.breakers.first { $0.model == "mochi-1" }?.state == .closed)

            let json = try await harness.run(["breakers", "trip", "mochi-1", "--json"])
            #expect(json.status == 0, "\(json.stderr)")
            let response = try Flotilla_V1_BreakerActionResponse(jsonString: json.stdout)
            #expect(response.breaker.model == "mochi-1")
            #expect(response.breaker.state == .open)
            #expect(harness.coordinator.requests(of: Flotilla_V1_BreakerActionRequest.self).map(\.action) == [.reset, .trip])
        }
    }

    @Test func oneLineFormsOfEveryState() {
        var breaker = AdminFixtures.breakers[2]
        #expect(BreakerText.line(breaker) == "breaker open-sora: HALF_OPEN (probes 1/3 ok, 2 in flight)")
        breaker = AdminFixtures.breakers[1]
        #expect(BreakerText.line(breaker) == "breaker sdxl: CLOSED (1 recent failure)")
        breaker = AdminFixtures.breakers[0]
        #expect(BreakerText.line(breaker) == "breaker mochi-1: OPEN (half-open in 12s)")
        breaker.nextTransitionMs = 0
        #expect(BreakerText.line(breaker) == "breaker mochi-1: OPEN")
    }

    @Test func unknownModelIsTheServersNotFound() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["breakers", "reset", "no-such-model"])
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "flotillactl: NOT_FOUND: no model named no-such-model\n")
        }
    }

    @Test func breakerCommandsRefuseAClientCertificate() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            for command in [["breakers"], ["breakers", "reset", "mochi-1"], ["breakers", "trip", "mochi-1"]] {
                let result = try await harness.run(command, as: .client)
                #expect(result.status == 1, "\(command)")
                #expect(result.stdout.isEmpty)
                #expect(result.stderr.hasPrefix("flotillactl: the certificate's role (client) may not do this;"), "\(result.stderr)")
                #expect(result.stderr.contains("need an admin certificate"))
                #expect(result.stderr.contains("PERMISSION_DENIED"))
            }
            #expect(harness.coordinator.requests.isEmpty, "the role check runs before the service")
            #expect(plane.breakers == AdminFixtures.breakers)
        }
    }

    @Test func breakerActionNeedsAModel() async throws {
        let result = try await flotillactl(["breakers", "trip"], environment: [:])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Missing expected argument '<model>'"), "\(result.stderr)")
    }
}
