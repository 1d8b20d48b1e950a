import FlotillaCoordinatorState
@testable import FlotillaDrills
import FlotillaProto
import Testing

/// The leader-failover drill's two pure halves: the plan the leader records, and the
/// verdict the next leader reaches from what it saw.
@Suite struct LeaderFailoverTests {
    static let three = [
        LeaderFailover.Member(name: "c1", voter: true, reachable: true),
        LeaderFailover.Member(name: "c2", voter: true, reachable: true),
        LeaderFailover.Member(name: "c3", voter: true, reachable: true),
    ]

    static func request(_ mode: Flotilla_V1_FailoverMode = .kill, force: Bool = false) -> Flotilla_V1_DrillRequest {
        var request = Flotilla_V1_DrillRequest()
        request.kind = .leaderFailover
        request.mode = mode
        request.force = force
        return request
    }

    /// Two running jobs on w1 and one only assigned (its worker has not reported it).
    static func cluster() -> DrillCluster {
        var cluster = DrillCluster()
        let worker = cluster.worker("w1", gpus: 4)
        _ = cluster.runningJob(on: worker, gpu: 0)
        _ = cluster.runningJob(on: worker, gpu: 1)
        var spec = Flotilla_V1_JobSpec()
        spec.model = "sdxl"
        spec.gpuCount = 1
        let assigned = cluster.apply(.submitJob(spec, at: cluster.now)).jobID!
        cluster.apply(.assign(Placement(jobID: assigned, workerID: worker, gpuIndices: [2]), at: cluster.now))
        return cluster
    }

    static func started(_ cluster: DrillCluster, mode: Flotilla_V1_FailoverMode = .kill) throws -> Flotilla_V1_DrillReport {
        var report = try LeaderFailover.plan(request(mode), leader: "c1", members: three, state: cluster.state, health: HealthPolicy())
        report.id = "d-9"
        report.startedUnixMs = 50_000
        return report
    }

    /// A new leader that saw every tracked job in its first attempt and every job kept.
    static func seen(_ report: Flotilla_V1_DrillReport, electedAt: UInt64 = 50_200) -> LeaderFailover.Observation {
        LeaderFailover.Observation(
            leader: "c2", term: 4, electedAt: electedAt, servingAt: electedAt + 15, firstSubmissionAt: electedAt + 30,
            now: electedAt + 20_000, jobsKept: Int(report.baseline.jobsTotal), jobsPruned: 0,
            attempts: Dictionary(uniqueKeysWithValues: report.jobs.map { ($0.jobID, $0.attemptBefore) }),
            jobsWithTwoLiveAttempts: 0, staleSightings: 0)
    }

    @Test func thePlanRecordsTheJobsAndTracksOnlyAttemptsTheirWorkerRuns() throws {
        let report = try Self.started(Self.cluster())
        #expect(report.kind == .leaderFailover && report.target == "c1" && report.mode == .kill)
        #expect(report.objectiveMs == LeaderFailover.killObjectiveMs)
        #expect(report.baseline.jobsTotal == 3 && report.baseline.lastJobSequence > 0)
        #expect(report.jobs.count == 2, "the assigned job may rightly be placed again, so it is not tracked")
        #expect(report.jobs.allSatisfy { $0.attemptBefore == 1 && $0.workerBefore.hasPrefix("w") })
        #expect(report.blastRadius.contains { $0.contains("without c1, 2 reachable") })
        #expect(try Self.started(Self.cluster(), mode: .transfer).objectiveMs == LeaderFailover.transferObjectiveMs)
    }

    @Test func refusedWhenTheRestCannotElectAndForcedPastIt() throws {
        let state = Self.cluster().state
        var members = Self.three
        members[2].reachable = false
        #expect(throws: DrillPlanError.self) {
            try LeaderFailover.plan(Self.request(), leader: "c1", members: members, state: state, health: HealthPolicy())
        }
        do {
            _ = try LeaderFailover.plan(Self.request(), leader: "c1", members: members, state: state, health: HealthPolicy())
        } catch .refused(let reason, _) {
            #expect(reason.contains("only 1 of 3 voters are reachable, fewer than the 2 a leader needs"))
        } catch {
            Issue.record("refused expected, got \(error)")
        }
        let forced = try LeaderFailover.plan(Self.request(force: true), leader: "c1", members: members, state: state, health: HealthPolicy())
        #expect(forced.forced)
        // One voter (a learner beside it does not count) has no one to fail over to.
        let alone = [members[0], LeaderFailover.Member(name: "c2", voter: false, reachable: true)]
        #expect(throws: DrillPlanError.self) {
            try LeaderFailover.plan(Self.request(force: false), leader: "c1", members: alone, state: state, health: HealthPolicy())
        }
        var other = Self.request()
        other.target = "c3"
        #expect(throws: DrillPlanError.self) {
            try LeaderFailover.plan(other, leader: "c1", members: Self.three, state: state, health: HealthPolicy())
        }
    }

    @Test func aCleanFailoverPassesWithItsOffsetsFromTheKill() throws {
        let started = try Self.started(Self.cluster())
        let report = LeaderFailover.judge(started, Self.seen(started))
        #expect(report.verdict == .pass, "\(report.reason)")
        // The kill comes killDelayMs after the record; offsets count from it.
        #expect(report.electedMs == 200 - LeaderFailover.killDelayMs)
        #expect(report.firstCommitMs == report.electedMs + 15)
        #expect(report.firstSubmissionMs == report.electedMs + 30)
        #expect(report.newLeader == "c2" && report.newTerm == 4)
        #expect(report.jobsLost == 0 && report.jobsRestarted == 0 && report.jobs.isEmpty)
        #expect(report.events.map(\.text).first == "leader c1 killed (SIGKILL)")
        #expect(report.reason.contains("none of 2 running jobs restarted"))
    }

    @Test func eachBrokenPromiseFailsTheDrill() throws {
        let started = try Self.started(Self.cluster())
        var seen = Self.seen(started)
        seen.jobsKept -= 1
        #expect(LeaderFailover.judge(started, seen).reason == "1 acknowledged jobs lost")
        seen.jobsPruned = 1   // expired by retention, not lost
        #expect(LeaderFailover.judge(started, seen).verdict == .pass)

        seen = Self.seen(started)
        seen.attempts[started.jobs[0].jobID] = 2
        let restarted = LeaderFailover.judge(started, seen)
        #expect(restarted.verdict == .fail && restarted.jobsRestarted == 1)
        #expect(restarted.jobs.map(\.jobID) == [started.jobs[0].jobID] && restarted.jobs[0].attemptAfter == 2)

        seen = Self.seen(started)
        seen.staleSightings = 1
        #expect(LeaderFailover.judge(started, seen).jobsRanTwice == 1)

        let slow = LeaderFailover.judge(started, Self.seen(started, electedAt: 52_000))
        #expect(slow.verdict == .fail)
        #expect(slow.reason.contains("over the 1s objective"), "\(slow.reason)")
    }

    @Test func theNewLeaderWatchesPastTheWorkersGraceAndAFirstSubmission() throws {
        let started = try Self.started(Self.cluster())
        let health = HealthPolicy()
        var seen = Self.seen(started)
        seen.now = seen.servingAt + health.heartbeatTimeoutMs
        #expect(!LeaderFailover.isDue(started, seen, health: health), "within the grace a reschedule could still come")
        seen.now += 1_000
        #expect(LeaderFailover.isDue(started, seen, health: health))
        seen.firstSubmissionAt = nil
        #expect(!LeaderFailover.isDue(started, seen, health: health), "waits a while for a submission to measure")
        seen.now += LeaderFailover.submissionWaitMs
        #expect(LeaderFailover.isDue(started, seen, health: health))
    }
}
