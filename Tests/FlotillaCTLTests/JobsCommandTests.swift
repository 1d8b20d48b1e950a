import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

@Suite struct JobsCommandTests {
    /// Answers submissions with a job named after the idempotency key (or the events' job),
    /// GetJob with `job`, and watches with `events`.
    static func script(job: Flotilla_V1_Job = JobFixtures.running(), events: [Flotilla_V1_JobEvent] = [])
        -> FakeCoordinator.Script
    {
        { message in
            switch message {
            case let submit as Flotilla_V1_SubmitJobRequest:
                var response = Flotilla_V1_SubmitJobResponse()
                response.job.id = events.first?.jobID ?? "job-\(submit.spec.idempotencyKey)"
                response.job.spec = submit.spec
                response.job.state = .queued
                return .message(response)
            case is Flotilla_V1_GetJobRequest:
                var response = Flotilla_V1_GetJobResponse()
                response.job = job
                return .message(response)
            case is Flotilla_V1_WatchJobRequest:
                return FakeCoordinator.stream(events)
            default:
                return .failure(FlotillaError(.failedPrecondition, "not scripted"))
            }
        }
    }

    @Test func submitSendsTheSpecAndPrintsTheID() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            let result = try await harness.run([
                "jobs", "submit", "--model", "mochi-1", "--gpus", "4", "--gpu-type", "H100", "--tier", "premium",
                "--tenant", "studio", "--param", "prompt=a cat, at dawn", "--param", "cfg=a=b", "--steps", "50",
                "--max-attempts", "5", "--idempotency-key", "k1", "--allow-fallback", "--label", "zone=eu",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "job-k1\n")
            let spec = try #require(harness.coordinator.requests(of: Flotilla_V1_SubmitJobRequest.self).first).spec
            #expect(spec.model == "mochi-1")
            #expect(spec.gpuCount == 4)
            #expect(spec.gpuType == "H100")
            #expect(spec.tier == .premium)
            #expect(spec.tenant == "studio")
            #expect(spec.params == ["prompt": "a cat, at dawn", "cfg": "a=b"])
            #expect(spec.steps == 50)
            #expect(spec.maxAttempts == 5)
            #expect(spec.idempotencyKey == "k1")
            #expect(spec.fallbackAllowed)
            #expect(spec.labels == ["zone": "eu"])
        }
    }

    @Test func submitDefaultsAndJSON() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            let result = try await harness.run(["jobs", "submit", "--model", "sdxl", "--json"], as: .client)
            #expect(result.status == 0, "\(result.stderr)")
            let response = try Flotilla_V1_SubmitJobResponse(jsonString: result.stdout)
            let spec = try #require(harness.coordinator.requests(of: Flotilla_V1_SubmitJobRequest.self).first).spec
            #expect(spec.gpuCount == 1)
            #expect(spec.tier == .standard)
            #expect(spec.tenant.isEmpty, "the coordinator fills in the certificate's tenant, else default")
            #expect(spec.steps == 0 && spec.maxAttempts == 0 && spec.gpuType.isEmpty)
            #expect(!spec.fallbackAllowed)
            #expect(spec.idempotencyKey.hasPrefix("flotillactl-"), "a generated key makes a resend safe")
            #expect(response.job.id == "job-\(spec.idempotencyKey)")
            #expect(response.job.spec == spec)
        }
    }

    @Test func malformedSubmissionsAreUsageErrorsAndSendNothing() async throws {
        try await CtlHarness.with(Self.script()) { harness in
            let noEquals = try await harness.run(["jobs", "submit", "--model", "m", "--param", "novalue"])
            #expect(noEquals.status == 64)
            let twice = try await harness.run(["jobs", "submit", "--model", "m", "--param", "a=1", "--param", "a=2"])
            #expect(twice.status == 64)
            #expect(twice.stderr.contains("--param a is given twice"))
            let zero = try await harness.run(["jobs", "submit", "--model", "m", "--gpus", "0"])
            #expect(zero.status == 64)
            let tier = try await harness.run(["jobs", "submit", "--model", "m", "--tier", "gold"])
            #expect(tier.status == 64)
            #expect(harness.coordinator.requests.isEmpty)
        }
    }

    @Test func listJSONParsesBackToTheServedJobs() async throws {
        var served = Flotilla_V1_ListJobsResponse()
        served.jobs = [JobFixtures.running(), JobFixtures.queued()]
        served.nextPageToken = "next-1"
        try await CtlHarness.with({ [served] _ in .message(served) }) { harness in
            let result = try await harness.run([
                "jobs", "list", "--json", "--state", "running", "--state", "queued", "--tenant", "studio",
                "--model", "mochi-1", "--worker", "w-3", "--limit", "5", "--page-token", "p0",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").count == 1, "one document")
            #expect(try Flotilla_V1_ListJobsResponse(jsonString: result.stdout) == served)
            #expect(result.stdout.contains("\"state\":\"JOB_STATE_RUNNING\""))
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_ListJobsRequest.self).first)
            #expect(request.states == [.running, .queued])
            #expect(request.tenant == "studio")
            #expect(request.model == "mochi-1")
            #expect(request.workerID == "w-3")
            #expect(request.limit == 5)
            #expect(request.pageToken == "p0")
        }
    }

    @Test func listTableHasOneAlignedRowPerJob() async throws {
        var served = Flotilla_V1_ListJobsResponse()
        served.jobs = [JobFixtures.running(), JobFixtures.queued()]
        try await CtlHarness.with({ [served] _ in .message(served) }) { harness in
            let result = try await harness.run(["jobs", "list"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 3, "\(result.stdout)")
            #expect(words(lines[0]) == ["ID", "STATE", "MODEL", "TIER", "TENANT", "GPUS", "STEP", "ATTEMPTS", "WORKER", "AGE"])
            #expect(words(lines[1]).dropLast(2) == ["j-running", "RUNNING", "mochi-1", "premium", "studio", "4", "H100", "40/100", "2", "w-3"])
            #expect(words(lines[2]).dropLast(2) == ["j-queued", "QUEUED", "sdxl", "free", "hobby", "1", "-", "0", "-"])
            #expect(lines[1].hasSuffix("s ago") && lines[2].hasSuffix("s ago"))
            // Aligned: each column starts at the same offset in every row.
            for column in ["STATE", "MODEL", "WORKER"] {
                let offset = lines[0].range(of: column)!.lowerBound.utf16Offset(in: lines[0])
                for line in lines.dropFirst() {
                    #expect(line.utf16.count > offset && line[line.index(line.startIndex, offsetBy: offset - 1)] == " ")
                    #expect(line[line.index(line.startIndex, offsetBy: offset)] != " ")
                }
            }
        }
    }

    @Test func getShowsTheRecordAndAttemptHistory() async throws {
        let job = JobFixtures.running()
        try await CtlHarness.with(Self.script(job: job)) { harness in
            let result = try await harness.run(["jobs", "get", "j-running"], as: .client)
            #expect(result.status == 0, "\(result.stderr)")
            for expected in [
                "ID:                j-running", "State:             RUNNING", "Model:             mochi-1",
                "Progress:          step 40/100", "Latest checkpoint: step 30 (attempt 1",
                "Params:            prompt=a lighthouse", "Attempts:",
            ] {
                #expect(result.stdout.contains(expected), "missing \(expected) in\n\(result.stdout)")
            }
            let attempts = Array(result.stdout.split(separator: "\n").map(String.init).drop { !$0.hasPrefix("ATTEMPT ") })
            try #require(attempts.count == 3, "\(result.stdout)")
            #expect(words(attempts[1]).prefix(4) == ["1", "w-1", "LOST", "start"])
            #expect(words(attempts[1]).suffix(5) == ["40s", "worker", "w-1", "missed", "heartbeats"])
            #expect(words(attempts[2]).prefix(5) == ["2", "w-3", "RUNNING", "step", "30"])
            #expect(harness.coordinator.requests(of: Flotilla_V1_GetJobRequest.self).first?.jobID == "j-running")

            let json = try await harness.run(["jobs", "get", "j-running", "--json"])
            #expect(try Flotilla_V1_GetJobResponse(jsonString: json.stdout).job == job)
        }
    }

    @Test func watchPrintsEachEventAndSucceeds() async throws {
        let events = JobFixtures.events("j-1", ending: .succeeded)
        try await CtlHarness.with(Self.script(events: events)) { harness in
            let result = try await harness.run(["jobs", "watch", "j-1"], as: .client)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 3, "\(result.stdout)")
            #expect(lines.allSatisfy { $0.range(of: #"^\d\d:\d\d:\d\d\.\d\d\d "#, options: .regularExpression) != nil })
            #expect(lines[0].hasSuffix(
                " RUNNING attempt 2 on w-3 step 30/100 resumed from checkpoint step 30 - attempt 2 assigned to w-3"))
            #expect(lines[1].hasSuffix(" RUNNING attempt 2 on w-3 step 40/100"), "a progress note is not repeated")
            #expect(lines[2].hasSuffix(" SUCCEEDED attempt 2 on w-3 step 100/100 resumed from checkpoint step 30 - succeeded"))
            #expect(harness.coordinator.requests(of: Flotilla_V1_WatchJobRequest.self).map(\.jobID) == ["j-1"])
        }
    }

    @Test func watchJSONIsOneEventPerLine() async throws {
        let events = JobFixtures.events("j-1", ending: .succeeded)
        try await CtlHarness.with(Self.script(events: events)) { harness in
            let result = try await harness.run(["jobs", "watch", "j-1", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let decoded = try result.stdout.split(separator: "\n").map { try Flotilla_V1_JobEvent(jsonString: String($0)) }
            #expect(decoded == events)
        }
    }

    /// An election in progress: the coordinator knows no leader for its first GetJobs (each
    /// answered NOT_LEADER with no hint, more than one request follows), and the watch waits
    /// it out instead of failing.
    @Test func watchWaitsWhileNoLeaderIsKnown() async throws {
        let events = JobFixtures.events("j-1", ending: .succeeded)
        let asked = NSLock()
        nonisolated(unsafe) var gets = 0
        let script = Self.script(events: events)
        try await CtlHarness.with({ message in
            if message is Flotilla_V1_GetJobRequest {
                let count = asked.withLock { gets += 1; return gets }
                if count <= 8 {
                    return .failure(FlotillaError(.notLeader, "c2 is not the leader and no leader is known yet",
                                                  retryAfterMilliseconds: 50))
                }
            }
            return script(message)
        }) { harness in
            let result = try await harness.run(["jobs", "watch", "j-1"], as: .client)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").last?.contains(" SUCCEEDED attempt 2") == true, "\(result.stdout)")
            #expect(harness.coordinator.requests(of: Flotilla_V1_GetJobRequest.self).count > ClusterClient.maxRedirects + 1,
                    "more NOT_LEADER answers than one request follows")
        }
    }

    @Test func watchOfAFailedJobExitsNonZero() async throws {
        try await CtlHarness.with(Self.script(events: JobFixtures.events("j-2", ending: .failed))) { harness in
            let result = try await harness.run(["jobs", "watch", "j-2"])
            #expect(result.status == 1)
            #expect(result.stdout.split(separator: "\n").last?.contains(" FAILED attempt 2") == true)
            #expect(result.stderr == "flotillactl: job j-2 ended FAILED: attempts exhausted: CUDA out of memory\n")
        }
    }

    @Test func submitWaitFailsOnFailed() async throws {
        try await CtlHarness.with(Self.script(events: JobFixtures.events("j-3", ending: .failed))) { harness in
            let result = try await harness.run(["jobs", "submit", "--model", "mochi-1", "--wait"])
            #expect(result.status == 1)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "j-3", "the id comes first, before any event")
            #expect(lines.count == 4)
            #expect(result.stderr.contains("job j-3 ended FAILED"))
        }
    }

    @Test func submitWaitJSONSucceeds() async throws {
        try await CtlHarness.with(Self.script(events: JobFixtures.events("j-4", ending: .succeeded))) { harness in
            let result = try await harness.run(["jobs", "submit", "--model", "mochi-1", "--wait", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let documents = result.stdout.split(separator: "\n").map(String.init)
            try #require(documents.count == 4, "\(result.stdout)")
            #expect(try Flotilla_V1_SubmitJobResponse(jsonString: documents[0]).job.id == "j-4")
            #expect(try Flotilla_V1_JobEvent(jsonString: documents[3]).state == .succeeded)
        }
    }

    @Test func cancelSendsTheReasonAndPrintsTheNewState() async throws {
        let script: FakeCoordinator.Script = { message in
            guard let cancel = message as? Flotilla_V1_CancelJobRequest else { return .failure(FlotillaError(.internal, "?")) }
            var response = Flotilla_V1_CancelJobResponse()
            response.job = JobFixtures.queued(cancel.jobID)
            response.job.state = .cancelled
            return .message(response)
        }
        try await CtlHarness.with(script) { harness in
            let result = try await harness.run(["jobs", "cancel", "j-5", "--reason", "wrong prompt"], as: .client)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "job j-5 is CANCELLED\n")
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_CancelJobRequest.self).first)
            #expect(request.jobID == "j-5")
            #expect(request.reason == "wrong prompt")
        }
    }
}

/// A line's whitespace-separated words.
func words(_ line: String) -> [String] {
    line.split(whereSeparator: \.isWhitespace).map(String.init)
}
