import FlotillaCoordinatorState
@testable import FlotillaDrills
import FlotillaProto
import Testing

/// The monitor driven by hand-made observations on an invented clock.
@Suite struct DrillMonitorTests {
    let t0: UInt64 = 5_000_000
    let job: JobID = "job-9"

    func started(_ plan: DrillPlan) -> Flotilla_V1_DrillReport {
        var report = plan.startingReport(startedBy: "operator", baseline: .init())
        report.id = "d-7"
        report.verdict = .running
        return report
    }

    /// At injection: job-9 runs attempt 1 on gpu-1 at step 40, checkpoint at 30.
    func injected(_ plan: DrillPlan) -> DrillMonitor {
        let observation = DrillObservation(
            at: t0, targets: ["w-1": Sight.target("gpu-1", .ready, heardAt: t0)],
            jobs: [job: Sight.job(attempt: 1, worker: "w-1", workerName: "gpu-1", step: 40, checkpoint: 30)],
            healthyServers: ["sdxl": 1])
        return DrillMonitor(plan: plan, report: started(plan), observation: observation)
    }

    func at(_ offset: UInt64, _ target: WorkerState, heard: UInt64? = nil, _ sighting: DrillObservation.JobSighting,
            stale: StaleSighting? = nil, servers: Int = 1) -> DrillObservation {
        DrillObservation(at: t0 + offset, targets: ["w-1": Sight.target("gpu-1", target, heardAt: heard ?? t0)],
                         jobs: [job: sighting], healthyServers: ["sdxl": servers],
                         stale: stale.map { [job: $0] } ?? [:])
    }

    @Test func killWorkerPassesWhenTheJobResumesFromItsCheckpointInTime() {
        var monitor = injected(handPlan(.killWorker))
        let before = Sight.job(attempt: 1, worker: "w-1", workerName: "gpu-1", step: 40, checkpoint: 30)
        #expect(monitor.observe(at(1_000, .ready, before)) == .watching)
        #expect(monitor.observe(at(10_000, .suspect, before)) == .watching)
        let requeued = Sight.job(.queued, attempt: 1, attemptState: .lost, worker: nil, workerName: "", step: 40, checkpoint: 30)
        #expect(monitor.observe(at(15_000, .lost, requeued)) == .watching)
        let again = Sight.job(attempt: 2, worker: "w-2", workerName: "gpu-2", step: 30, resumedFrom: 30, checkpoint: 30,
                              startedAt: t0 + 15_200)
        #expect(monitor.observe(at(15_500, .lost, again)) == .ended(.pass))
        let report = monitor.report
        #expect(report.detectionMs == 10_000)
        #expect(report.recoveryMaxMs == 15_500)
        #expect(report.recoveryP50Ms == 15_500)
        #expect(report.jobs.count == 1)
        #expect(report.jobs[0].resumedStep == 30)
        #expect(report.jobs[0].stepsLost == 10)
        #expect(report.jobs[0].workerAfter == "gpu-2")
        #expect(report.jobsMoved == 1)
        #expect(report.jobsFailed == 0 && report.jobsRanTwice == 0)
        #expect(report.timeline.contains("+10.000s detected: the coordinator marked gpu-1 suspect"))
        #expect(report.timeline.contains { $0.hasPrefix("+15.500s job job-9 running again on gpu-2 from step 30 (10 steps lost)") })
    }

    @Test func aRecoveryOverTheObjectiveFails() {
        var monitor = injected(handPlan(.killWorker, objectiveMs: 10_000))
        let again = Sight.job(attempt: 2, worker: "w-2", workerName: "gpu-2", step: 30, resumedFrom: 30, checkpoint: 30)
        #expect(monitor.observe(at(12_000, .lost, again)) == .ended(.fail))
        #expect(monitor.report.reason.contains("over the 10s objective"))
    }

    @Test func resumingBeforeTheCheckpointFails() {
        var monitor = injected(handPlan(.killWorker))
        let fromZero = Sight.job(attempt: 2, worker: "w-2", workerName: "gpu-2", step: 0, resumedFrom: 0)
        #expect(monitor.observe(at(2_000, .lost, fromZero)) == .ended(.fail))
        #expect(monitor.report.reason.contains("before its checkpoint at step 30"))
    }

    @Test func theDeadlineAborts() {
        var monitor = injected(handPlan(.killWorker, timeoutMs: 60_000))
        let stuck = Sight.job(.queued, attempt: 1, attemptState: .lost, worker: nil, workerName: "", step: 40, checkpoint: 30)
        #expect(monitor.observe(at(59_999, .lost, stuck)) == .watching)
        #expect(monitor.observe(at(60_000, .lost, stuck)) == .ended(.aborted))
        #expect(monitor.report.reason.contains("the deadline (60s) passed"))
        #expect(monitor.report.reason.contains("job-9 not running again"))
        #expect(monitor.aborted)
        #expect(monitor.report.jobsLost == 1)
    }

    @Test func aJobFailingAborts() {
        var monitor = injected(handPlan(.killWorker))
        let failed = Sight.job(.failed, attempt: 1, attemptState: .failed, worker: nil, workerName: "", step: 40)
        #expect(monitor.observe(at(3_000, .lost, failed)) == .ended(.aborted))
        #expect(monitor.report.reason == "job job-9 failed during the drill")
        #expect(monitor.report.jobsFailed == 1)
    }

    @Test func noHealthyCapacityLeftAborts() {
        var monitor = injected(handPlan(.killWorker))
        let requeued = Sight.job(.queued, attempt: 1, attemptState: .lost, worker: nil, workerName: "", step: 40)
        #expect(monitor.observe(at(3_000, .lost, requeued, servers: 0)) == .ended(.aborted))
        #expect(monitor.report.reason.contains("no healthy worker outside the drill's targets serves model sdxl"))
    }

    @Test func freezePassesOnceTheWorkerIsBackAndReportsNothingStale() {
        var monitor = injected(handPlan(.freezeWorker, durationMs: 20_000))
        let again = Sight.job(attempt: 2, worker: "w-2", workerName: "gpu-2", step: 30, resumedFrom: 30, checkpoint: 30,
                              startedAt: t0 + 15_100)
        #expect(monitor.observe(at(15_500, .lost, again)) == .watching)   // moved, but the worker is still frozen
        #expect(monitor.observe(at(21_000, .ready, heard: t0 + 20_500, again)) == .watching)   // back: wait a heartbeat
        #expect(monitor.observe(at(26_000, .ready, heard: t0 + 25_500, again)) == .ended(.pass))
        #expect(monitor.report.timeline.contains { $0.contains("all targets heard from again") })
    }

    @Test func freezeFailsWhenTheStaleAttemptStillRuns() {
        var monitor = injected(handPlan(.freezeWorker, durationMs: 20_000))
        let again = Sight.job(attempt: 2, worker: "w-2", workerName: "gpu-2", step: 30, resumedFrom: 30, checkpoint: 30,
                              startedAt: t0 + 15_100)
        #expect(monitor.observe(at(15_500, .lost, again)) == .watching)
        let stale = StaleSighting(attempt: 1, at: t0 + 20_600)
        #expect(monitor.observe(at(21_000, .ready, heard: t0 + 20_600, again, stale: stale)) == .watching)
        #expect(monitor.observe(at(26_000, .ready, heard: t0 + 25_600, again, stale: stale)) == .ended(.fail))
        #expect(monitor.report.jobsRanTwice == 1)
        #expect(monitor.report.reason.contains("ran twice"))
    }

    @Test func aShortFreezeKeepsTheAttempt() {
        var monitor = injected(handPlan(.freezeWorker, durationMs: 3_000))
        let onward = Sight.job(attempt: 1, worker: "w-1", workerName: "gpu-1", step: 44, checkpoint: 30)
        #expect(monitor.observe(at(3_500, .ready, heard: t0 + 3_200, onward)) == .watching)
        #expect(monitor.observe(at(8_600, .ready, heard: t0 + 8_200, onward)) == .ended(.pass))
        #expect(monitor.report.jobs[0].stepsLost == 0)
        #expect(monitor.report.jobsMoved == 0)
    }

    /// A report on its way when the freeze began shows the attempt a step further on:
    /// that is not the job recovering, and the drill goes on watching until it moves.
    @Test func progressArrivingJustAfterTheFreezeBeganIsNoRecovery() {
        var monitor = injected(handPlan(.freezeWorker, durationMs: 4_000))
        let inFlight = Sight.job(attempt: 1, worker: "w-1", workerName: "gpu-1", step: 41, checkpoint: 30)
        #expect(monitor.observe(at(100, .ready, inFlight)) == .watching)
        let requeued = Sight.job(.queued, attempt: 1, attemptState: .lost, worker: nil, workerName: "", step: 41, checkpoint: 30)
        #expect(monitor.observe(at(2_500, .lost, requeued)) == .watching)
        let again = Sight.job(attempt: 2, worker: "w-2", workerName: "gpu-2", step: 30, resumedFrom: 30, checkpoint: 30,
                              startedAt: t0 + 2_600)
        #expect(monitor.observe(at(2_700, .lost, again)) == .watching)
        #expect(monitor.observe(at(4_500, .ready, heard: t0 + 4_200, again)) == .watching)
        #expect(monitor.observe(at(10_000, .ready, heard: t0 + 9_800, again)) == .ended(.pass))
        #expect(monitor.report.jobs[0].workerAfter == "gpu-2")
        #expect(monitor.report.jobs[0].recoveryMs == 2_700)
        #expect(monitor.report.jobsMoved == 1)
    }

    @Test func corruptCheckpointPassesOnlyWithARestartFromZeroTheUserIsToldOf() {
        let plan = handPlan(.corruptCheckpoint, jobID: "job-9")
        var monitor = injected(plan)
        let rejected = Sight.job(.queued, attempt: 2, attemptState: .failed, worker: nil, workerName: "", step: 40,
                                 resumedFrom: 30, rejectedAt: t0 + 6_000)
        #expect(monitor.observe(at(6_100, .lost, rejected)) == .watching)
        let fromZero = Sight.job(attempt: 3, worker: "w-2", workerName: "gpu-2", step: 0, resumedFrom: 0,
                                 rejectedAt: t0 + 6_000)
        #expect(monitor.observe(at(6_500, .lost, fromZero)) == .ended(.pass))
        #expect(monitor.report.timeline.contains { $0.contains("the checkpoint failed verification (digest mismatch)") })
        #expect(monitor.report.jobs[0].resumedStep == 0)

        var undetected = injected(plan)
        let resumed = Sight.job(attempt: 2, worker: "w-2", workerName: "gpu-2", step: 30, resumedFrom: 30)
        #expect(undetected.observe(at(6_500, .lost, resumed)) == .ended(.fail))
        #expect(undetected.report.reason.contains("the damaged checkpoint was not detected"))
    }

    @Test func slowWorkerIsJudgedOnItsPhases() {
        let plan = handPlan(.slowWorker, durationMs: 10_000)
        var monitor = injected(plan)
        let running = Sight.job(attempt: 1, worker: "w-1", workerName: "gpu-1", step: 45)
        #expect(monitor.phaseDue(at: t0 + 5_000)?.name == "before")
        var phase = Flotilla_V1_DrillPhase()
        phase.name = "before"
        var observation = at(5_000, .ready, running)
        observation.phase = phase
        #expect(monitor.observe(observation) == .watching)
        #expect(monitor.phaseDue(at: t0 + 5_000) == nil)
        #expect(monitor.phaseDue(at: t0 + 10_000)?.name == "during")
        phase.name = "during"
        observation = at(10_000, .ready, running)
        observation.phase = phase
        #expect(monitor.observe(observation) == .watching)
        phase.name = "after"
        phase.jobsFailed = 1
        observation = at(20_000, .ready, running)
        observation.phase = phase
        #expect(monitor.observe(observation) == .ended(.fail))
        #expect(monitor.report.reason == "1 jobs failed while the worker was slow or after")
        #expect(monitor.report.phases.map(\.name) == ["before", "during", "after"])
    }

    @Test func timelineOffsetsReadAsSignedSeconds() {
        #expect(DrillClock.offset(ms: -512) == "-0.512s")
        #expect(DrillClock.offset(ms: 12_345) == "+12.345s")
        #expect(DrillClock.text(ms: 1_500) == "1.5s")
        #expect(DrillClock.text(ms: 30_000) == "30s")
    }
}
