import FlotillaCoordinatorState
import FlotillaProto

/// Watches one drill's recovery, a pure value: observations in, timeline
/// events and finally the verdict out. Time comes only with the
/// observations, so a test drives it with any clock it likes.
///
///     var monitor = DrillMonitor(plan: plan, report: started, observation: atInjection)
///     while case .watching = monitor.observe(next()) {}
///     monitor.report   // PASS, FAIL or ABORTED, with the reason
public struct DrillMonitor: Sendable {
    public enum Decision: Sendable, Hashable {
        case watching
        case ended(Flotilla_V1_DrillVerdict)
    }

    /// One job that was running where the fault went.
    struct Tracked: Sendable, Hashable {
        var jobID: JobID
        var workerBefore: String
        var attempt: UInt32
        var stepAtInjection: UInt64
        var checkpointStep: UInt64
        var recoveredAt: UInt64?
        var recoveredAttempt: UInt32 = 0
        var recoveredAttemptStartedAt: UInt64 = 0
        var resumedStep: UInt64 = 0
        var workerAfter = ""
        var failed = false
        var succeeded = false
        var ranTwice = false
        var requeueNoted = false
        var rejectionNoted = false

        var settled: Bool { recoveredAt != nil || failed }
    }

    public let plan: DrillPlan
    public let injectedAt: UInt64
    public internal(set) var report: Flotilla_V1_DrillReport
    var tracked: [Tracked] = []
    var targetStates: [WorkerID: WorkerState] = [:]
    var detectedAt: UInt64?
    /// Lasting faults: when every target was heard from again after the fault.
    var returnedAt: UInt64?
    var faultOverNoted = false
    /// fail-zone: jobs placed on a faulted worker after it was detected.
    var misplaced: [String] = []
    var abortReason: String?
    public internal(set) var decision = Decision.watching

    public init(plan: DrillPlan, report: Flotilla_V1_DrillReport, observation: DrillObservation) {
        self.plan = plan
        self.injectedAt = observation.at
        self.report = report
        for (id, target) in observation.targets { targetStates[id] = target.state }
        let faulted = plan.targetNames.joined(separator: ", ")
        let baseline = report.baseline
        note(at: observation.at, "baseline: \(baseline.workersReady)/\(baseline.workersTotal) workers ready, \(baseline.gpusAllocated)/\(baseline.gpusTotal) GPUs allocated, \(baseline.jobsRunning) jobs running, \(baseline.jobsQueued) queued")
        note(at: observation.at, "injected \(plan.profile.name) into \(faulted)\(plan.profile.lasts ? " for \(DrillClock.text(ms: plan.durationMs))" : "")\(plan.profile.kind == .slowWorker ? ", delay \(DrillClock.text(ms: plan.delayMs))" : "")")
        for (id, sighting) in observation.jobs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let worker = sighting.workerID, plan.targets.contains(worker), plan.profile.kind != .slowWorker else { continue }
            track(id, sighting)
        }
        if let phase = observation.phase { self.report.phases.append(phase) }
    }

    /// The measurement window due at `at` that is not yet in the report (slow-worker).
    public func phaseDue(at: UInt64) -> (name: String, from: UInt64, to: UInt64)? {
        guard plan.profile.kind == .slowWorker, case .watching = decision else { return nil }
        let windows = [("before", injectedAt - min(injectedAt, plan.durationMs), injectedAt),
                       ("during", injectedAt, injectedAt + plan.durationMs),
                       ("after", injectedAt + plan.durationMs, injectedAt + 2 * plan.durationMs)]
        return windows.first { window in at >= window.2 && !report.phases.contains { $0.name == window.0 } }
    }

    /// Workers the slow-worker drill saw LOST within a window.
    public func workersLost(from: UInt64, to: UInt64) -> Int {
        guard let detectedAt, detectedAt >= from, detectedAt < to,
              targetStates.values.contains(.lost) else { return 0 }
        return targetStates.values.count(where: { $0 == .lost })
    }

    /// Takes one observation; returns whether the drill goes on.
    public mutating func observe(_ observation: DrillObservation) -> Decision {
        guard case .watching = decision else { return decision }
        let at = observation.at
        watchTargets(observation)
        if let phase = observation.phase {
            report.phases.append(phase)
            note(at: at, "\(phase.name): \(phase.jobsFinished) jobs finished (\(String(format: "%.2f", phase.jobsPerSecond))/s), queue wait p50 \(DrillClock.text(ms: phase.queueWaitP50Ms)), \(phase.jobsFailed) failed")
        }
        for (id, sighting) in observation.jobs.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if let worker = sighting.workerID, plan.targets.contains(worker), returnedAt == nil,
               plan.profile.kind != .slowWorker, !tracked.contains(where: { $0.jobID == id }) {
                if let detectedAt, sighting.attemptStartedAt > detectedAt {
                    misplaced.append(id.rawValue)
                    note(at: at, "job \(id) placed on faulted worker \(sighting.workerName) after the fault was detected")
                }
                track(id, sighting)
            }
        }
        for position in tracked.indices {
            guard let sighting = observation.jobs[tracked[position].jobID] else { continue }
            var job = tracked[position]
            follow(&job, sighting, stale: observation.stale[job.jobID], at: at)
            tracked[position] = job
        }
        if let reason = abortCondition(observation) {
            abortReason = reason
            return finish(.aborted, reason, at: at)
        }
        if isOver(at: at) { return finish(verdict: at) }
        return .watching
    }

    /// Ends the drill from outside (the shell could not inject, or is stopping).
    public mutating func abort(_ reason: String, at: UInt64) {
        guard case .watching = decision else { return }
        abortReason = reason
        _ = finish(.aborted, reason, at: at)
    }

    public var aborted: Bool { abortReason != nil }

    /// The jobs the drill follows, for the next observation.
    public var trackedJobs: Set<JobID> { Set(tracked.map(\.jobID)) }

    mutating func track(_ id: JobID, _ sighting: DrillObservation.JobSighting) {
        tracked.append(Tracked(jobID: id, workerBefore: sighting.workerName, attempt: sighting.attempt,
                               stepAtInjection: sighting.step, checkpointStep: sighting.checkpointStep))
    }

    private mutating func watchTargets(_ observation: DrillObservation) {
        let at = observation.at
        for (id, target) in observation.targets.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where targetStates[id] != target.state {
            targetStates[id] = target.state
            note(at: at, "worker \(target.name) \(target.state)")
            if detectedAt == nil, target.state == .suspect || target.state == .lost {
                detectedAt = at
                note(at: at, "detected: the coordinator marked \(target.name) \(target.state)")
            }
        }
        guard plan.profile.lasts, returnedAt == nil, at >= injectedAt + plan.durationMs else { return }
        if !faultOverNoted {
            faultOverNoted = true
            note(at: injectedAt + plan.durationMs, "fault over: the targets act normally again")
        }
        let back = observation.targets.count == plan.targets.count && observation.targets.values.allSatisfy { target in
            target.state != .suspect && target.state != .lost && target.lastHeardAt >= injectedAt + plan.durationMs
        }
        if back {
            returnedAt = at
            note(at: at, "all targets heard from again")
        }
    }

    private mutating func follow(_ job: inout Tracked, _ sighting: DrillObservation.JobSighting, stale: StaleSighting?, at: UInt64) {
        if let stale, job.recoveredAttempt > 0, stale.attempt < job.recoveredAttempt,
           stale.at > job.recoveredAttemptStartedAt, !job.ranTwice {
            job.ranTwice = true
            note(at: at, "job \(job.jobID): attempt \(stale.attempt) still reported running after attempt \(job.recoveredAttempt) started: it ran twice")
        }
        if let rejectedAt = sighting.checkpointRejectedAt, rejectedAt >= injectedAt, !job.rejectionNoted {
            job.rejectionNoted = true
            note(at: rejectedAt, "job \(job.jobID): the checkpoint failed verification (\(sighting.checkpointRejection)); it restarts from step 0")
        }
        guard !job.settled else { return }
        switch sighting.state {
        case .failed:
            job.failed = true
            note(at: at, "job \(job.jobID) FAILED: \(sighting.error)")
            return
        case .succeeded, .cancelled:
            job.succeeded = sighting.state == .succeeded
            recovered(&job, sighting, at: at, resumed: sighting.attempt > job.attempt ? sighting.resumedFromStep : job.stepAtInjection)
            note(at: at, "job \(job.jobID) \(sighting.state)")
            return
        case .queued, .running:
            break
        }
        if sighting.attempt > job.attempt {
            if sighting.attemptState == .running || sighting.attemptState == .checkpointing {
                recovered(&job, sighting, at: at, resumed: sighting.resumedFromStep)
                note(at: at, "job \(job.jobID) running again on \(sighting.workerName) from step \(sighting.resumedFromStep) (\(job.stepAtInjection - min(job.stepAtInjection, sighting.resumedFromStep)) steps lost)")
            } else if sighting.state == .queued, !job.requeueNoted {
                job.requeueNoted = true
                note(at: at, "job \(job.jobID) requeued (attempt \(job.attempt) ended)")
            }
        } else if plan.profile.lasts, at >= injectedAt + plan.durationMs, sighting.attempt == job.attempt,
                  sighting.step > job.stepAtInjection, sighting.attemptState?.isLive == true {
            // A short fault: the same attempt carries on where it was, once the fault is
            // over. A report already on its way when the fault began is not a recovery.
            recovered(&job, sighting, at: at, resumed: job.stepAtInjection)
            note(at: at, "job \(job.jobID) progressing again on \(sighting.workerName) (attempt \(job.attempt) kept)")
        }
    }

    private func recovered(_ job: inout Tracked, _ sighting: DrillObservation.JobSighting, at: UInt64, resumed: UInt64) {
        job.recoveredAt = at
        job.recoveredAttempt = sighting.attempt
        job.recoveredAttemptStartedAt = sighting.attemptStartedAt
        job.resumedStep = resumed
        job.workerAfter = sighting.workerName.isEmpty ? job.workerBefore : sighting.workerName
    }

    mutating func note(at: UInt64, _ text: String) {
        var event = Flotilla_V1_DrillEvent()
        event.atMs = Int64(bitPattern: at &- injectedAt)
        event.text = text
        report.events.append(event)
    }
}
