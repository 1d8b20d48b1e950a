import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

extension ProcessClusterTests {
    /// Liveness lives in the leader's memory: heartbeats that change nothing replicated are
    /// not logged, and SUSPECT, LOST and READY again still are (issue 8, liveness).
    @Suite struct LivenessTests {
        static func commitIndex(_ admin: FlotillaConnection) async throws -> UInt64 {
            let status = try await admin.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
            return try #require(status.coordinators.first?.commitIndex)
        }

        static func state(of name: String, _ admin: FlotillaConnection) async throws -> Flotilla_V1_WorkerState {
            let workers = try await admin.request(Flotilla_V1_ListWorkersRequest(), expecting: Flotilla_V1_ListWorkersResponse.self)
            return try #require(workers.workers.first { $0.name == name }?.state)
        }

        @Test func idleHeartbeatsStayOffTheLogAndHealthChangesGoOnIt() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = RecoveryTests.fastHealth  // 250 ms; SUSPECT after 500 ms; LOST after 2 s
                try await cluster.startCoordinator()
                let admin = try await cluster.admin()
                let worker = try await cluster.connect(.worker, "w1")
                let registered = try await worker.request(CoordinatorBadInputTests.registration("w1", gpus: 2),
                                                          expecting: Flotilla_V1_RegisterWorkerResponse.self)
                var beat = Flotilla_V1_HeartbeatRequest()
                beat.workerID = registered.workerID
                beat.freeGpus = 2
                let before = try await Self.commitIndex(admin)
                // 3 s of heartbeats every 200 ms: past the LOST timeout, had they not counted.
                for _ in 0..<15 {
                    _ = try await worker.request(beat, expecting: Flotilla_V1_HeartbeatResponse.self)
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(try await Self.commitIndex(admin) == before, "idle heartbeats were written to the log")
                #expect(try await Self.state(of: "w1", admin) == .ready)
                let workers = try await admin.request(Flotilla_V1_ListWorkersRequest(), expecting: Flotilla_V1_ListWorkersResponse.self)
                let shown = try #require(workers.workers.first?.lastHeartbeatUnixMs)
                #expect(UInt64(Date().timeIntervalSince1970 * 1000) - shown < 1_000, "ListWorkers shows the in-memory heartbeat")

                // Silent: SUSPECT is logged; a heartbeat then makes it READY again, logged too.
                let deadline = ContinuousClock.now + .seconds(5)
                while try await Self.state(of: "w1", admin) != .suspect {
                    guard ContinuousClock.now < deadline else { throw ChildProcessError("w1 never became SUSPECT") }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let suspected = try await Self.commitIndex(admin)
                #expect(suspected > before)
                _ = try await worker.request(beat, expecting: Flotilla_V1_HeartbeatResponse.self)
                #expect(try await Self.state(of: "w1", admin) == .ready)
                #expect(try await Self.commitIndex(admin) == suspected + 1)
            }
        }
    }
}
