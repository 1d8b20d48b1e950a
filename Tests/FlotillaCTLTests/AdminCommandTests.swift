import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

@Suite struct AdminCommandTests {
    static let status: Flotilla_V1_ClusterStatusResponse = {
        var status = Flotilla_V1_ClusterStatusResponse()
        status.cluster = "test"
        status.region = "us-east"
        var leader = Flotilla_V1_CoordinatorInfo()
        leader.name = "c1"
        leader.address = "10.0.0.1:7400"
        leader.state = .leader
        leader.term = 7
        leader.commitIndex = 1234
        leader.matchIndex = 1234
        leader.voter = true
        leader.reachable = true
        var follower = Flotilla_V1_CoordinatorInfo()
        follower.name = "c2"
        follower.address = "10.0.0.2:7400"
        follower.state = .follower
        follower.term = 7
        follower.matchIndex = 1200
        follower.voter = true
        follower.lastContactMs = 40
        status.coordinators = [leader, follower]
        status.workersReady = 2
        status.workersTotal = 3
        status.gpusTotal = 12
        status.gpusAllocated = 5
        status.jobsQueued = 4
        status.jobsRunning = 3
        status.jobsSucceeded = 120
        status.jobsFailed = 2
        var premium = Flotilla_V1_TierQueue()
        premium.tier = .premium
        premium.queued = 1
        premium.oldestWaitMs = 12_000
        status.queues = [premium]
        status.recommendations = ["4 standard jobs wait for H100 GPUs: add an H100 worker"]
        return status
    }()

    static let workers: Flotilla_V1_ListWorkersResponse = {
        var worker = Flotilla_V1_WorkerInfo()
        worker.id = "w-1"
        worker.name = "gpu-node-1"
        worker.state = .ready
        worker.gpus = (0..<4).map { index in
            var gpu = Flotilla_V1_Gpu()
            gpu.index = UInt32(index)
            gpu.type = "H100"
            gpu.memoryMib = 81_920
            return gpu
        }
        worker.gpusAllocated = 2
        worker.models = ["mochi-1", "sdxl"]
        worker.lastHeartbeatUnixMs = JobFixtures.nowMilliseconds - 3_000
        worker.running = [Flotilla_V1_RunningAttempt(), Flotilla_V1_RunningAttempt()]
        var drained = Flotilla_V1_WorkerInfo()
        drained.id = "w-2"
        drained.name = "gpu-node-2"
        drained.state = .drained
        var response = Flotilla_V1_ListWorkersResponse()
        response.workers = [worker, drained]
        return response
    }()

    static let script: FakeCoordinator.Script = { message in
        switch message {
        case is Flotilla_V1_ClusterStatusRequest:
            return .message(status)
        case is Flotilla_V1_ListWorkersRequest:
            return .message(workers)
        case let drain as Flotilla_V1_DrainWorkerRequest:
            guard drain.worker == "gpu-node-1" else { return .failure(FlotillaError(.notFound, "no worker \(drain.worker)")) }
            var response = Flotilla_V1_DrainWorkerResponse()
            response.worker = workers.workers[0]
            response.worker.state = .draining
            return .message(response)
        default:
            return .failure(FlotillaError(.failedPrecondition, "not scripted"))
        }
    }

    @Test func statusSummarisesTheCluster() async throws {
        try await CtlHarness.with(Self.script) { harness in
            let result = try await harness.run(["status"])
            #expect(result.status == 0, "\(result.stderr)")
            for expected in [
                "Cluster: test (region us-east)", "Workers: 2 ready of 3", "GPUs:    5 allocated of 12",
                "Jobs:    4 queued, 3 running, 120 succeeded, 2 failed", "add an H100 worker",
            ] {
                #expect(result.stdout.contains(expected), "missing \(expected) in\n\(result.stdout)")
            }
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains { words($0) == ["c1", "10.0.0.1:7400", "LEADER", "yes", "7", "1234", "-"] })
            // A follower the leader cannot reach says so instead of its last known role.
            #expect(lines.contains { words($0) == ["c2", "10.0.0.2:7400", "UNREACHABLE", "yes", "7", "1200", "40", "ms", "ago"] })
            #expect(lines.contains { words($0) == ["premium", "1", "12s"] })

            let json = try await harness.run(["status", "--json"])
            #expect(try Flotilla_V1_ClusterStatusResponse(jsonString: json.stdout) == Self.status)
        }
    }

    @Test func workersListsGPUsModelsAndHeartbeats() async throws {
        try await CtlHarness.with(Self.script) { harness in
            let result = try await harness.run(["workers"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 3, "\(result.stdout)")
            #expect(words(lines[0]) == ["ID", "NAME", "STATE", "GPUS", "MODELS", "LAST-HEARTBEAT", "RUNNING"])
            #expect(words(lines[1]).prefix(6) == ["w-1", "gpu-node-1", "READY", "2/4", "H100", "mochi-1,sdxl"])
            #expect(lines[1].range(of: #"\d+s ago +2$"#, options: .regularExpression) != nil, "\(lines[1])")
            #expect(words(lines[2]) == ["w-2", "gpu-node-2", "DRAINED", "0/0", "-", "-", "0"])

            let json = try await harness.run(["workers", "list", "--json"])
            #expect(try Flotilla_V1_ListWorkersResponse(jsonString: json.stdout) == Self.workers)
            #expect(json.stdout.contains("\"state\":\"WORKER_STATE_READY\""))
        }
    }

    @Test func drainNamesTheWorkerAndReason() async throws {
        try await CtlHarness.with(Self.script) { harness in
            let result = try await harness.run(["workers", "drain", "gpu-node-1", "--reason", "kernel upgrade"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "worker gpu-node-1 (w-1) is DRAINING\n")
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_DrainWorkerRequest.self).first)
            #expect(request.worker == "gpu-node-1")
            #expect(request.reason == "kernel upgrade")

            let unknown = try await harness.run(["workers", "drain", "gpu-node-9"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr == "flotillactl: no worker gpu-node-9\n")
        }
    }

    @Test func adminCommandsRefuseAClientCertificate() async throws {
        try await CtlHarness.with(Self.script) { harness in
            for command in [["status"], ["workers"], ["workers", "drain", "gpu-node-1"]] {
                let result = try await harness.run(command, as: .client)
                #expect(result.status == 1, "\(command)")
                #expect(result.stdout.isEmpty)
                #expect(result.stderr.hasPrefix("flotillactl: the certificate's role (client) may not do this;"), "\(result.stderr)")
                #expect(result.stderr.contains("need an admin certificate"))
                #expect(result.stderr.contains("PERMISSION_DENIED"))
            }
            #expect(harness.coordinator.requests.isEmpty, "the role check runs before the service")
        }
    }

    /// DEADLINE_EXCEEDED from the coordinator about its own work (a membership change that did
    /// not commit) is reported as the coordinator said it; only flotillactl's own timeouts
    /// suggest a longer --timeout, which could not help here.
    @Test func aCoordinatorsDeadlineIsNotBlamedOnTheTimeout() async throws {
        try await CtlHarness.with({ message in
            guard message is Flotilla_V1_RaftMembershipRequest else { return .failure(FlotillaError(.failedPrecondition, "not scripted")) }
            return .failure(FlotillaError(.deadlineExceeded, "the membership change at 9 did not commit within 4000 ms"))
        }) { harness in
            let result = try await harness.run(["operator", "raft", "remove-peer", "c3"])
            #expect(result.status == 1)
            #expect(result.stderr == "flotillactl: DEADLINE_EXCEEDED: the membership change at 9 did not commit within 4000 ms\n",
                    "\(result.stderr)")
        }
    }
}
