@testable import FlotillaCTL
import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

@Suite struct StatusSignalsTests {
    @Test func statusPrintsTheScalingSignals() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["status"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("Wait:    p99 42s from queue to start (last 10 minutes)"), "\(result.stdout)")
            #expect(lines.contains { words($0) == ["MODEL", "QUEUED", "OLDEST-WAIT"] })
            #expect(lines.contains { words($0) == ["mochi-1", "3", "1m35s"] })
            #expect(lines.contains { words($0) == ["GPU-TYPE", "ALLOCATED", "UTILISATION"] })
            #expect(lines.contains { words($0) == ["H100", "6/8", "75%"] })
            #expect(lines.contains { words($0) == ["A10G", "0/4", "0%"] })
            #expect(result.stdout.contains("""

                Capacity:
                  H100  +25%  p99 queue wait 42s is over the 30s target
                  A10G  -50%  idle for 15 minutes

                """), "\(result.stdout)")
            #expect(!result.stdout.contains("no capacity change recommended"))
            // The earlier parts are still there.
            #expect(lines.contains { words($0) == ["premium", "1", "12s"] })
            #expect(result.stdout.contains("add an H100 worker"))

            let json = try await harness.run(["status", "--json"])
            #expect(try Flotilla_V1_ClusterStatusResponse(jsonString: json.stdout) == plane.currentStatus)
        }
    }

    @Test func emptySignalsLeaveOnlyTheNoChangeLine() async throws {
        var quiet = AdminCommandTests.status
        quiet.queues = []
        quiet.recommendations = []
        let plane = FakeAdminPlane(status: quiet)
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["status"])
            #expect(result.status == 0, "\(result.stderr)")
            for absent in ["MODEL", "GPU-TYPE", "TIER", "Capacity:", "Recommendations:"] {
                #expect(!result.stdout.contains(absent), "\(absent) in\n\(result.stdout)")
            }
            #expect(result.stdout.contains("\n\nno capacity change recommended\n"), "\(result.stdout)")
            #expect(result.stdout.contains("Wait:    p99 0ms"))
        }
    }

    @Test func utilisationAndChangeFormats() {
        var usage = Flotilla_V1_GpuTypeUsage()
        usage.total = 3
        usage.allocated = 2
        #expect(ClusterStatusText.utilisation(usage) == "67%")
        usage.total = 0
        usage.allocated = 0
        #expect(ClusterStatusText.utilisation(usage) == "-")
        #expect(ClusterStatusText.percent(10) == "+10%")
        #expect(ClusterStatusText.percent(-10) == "-10%")
        #expect(ClusterStatusText.percent(0) == "0%")
    }
}
