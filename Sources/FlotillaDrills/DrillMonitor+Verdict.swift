import FlotillaCoordinatorState
import FlotillaProto

/// When a drill stops, and what it concludes.
extension DrillMonitor {
    /// Abort conditions: a tracked job failed, a tracked job's model has no
    /// healthy capacity left outside the targets, or the deadline passed.
    func abortCondition(_ observation: DrillObservation) -> String? {
        if let failed = tracked.first(where: \.failed) {
            return "job \(failed.jobID) failed during the drill"
        }
        for job in tracked where !job.settled {
            guard let sighting = observation.jobs[job.jobID] else { continue }
            if observation.healthyServers[sighting.model] == 0 {
                return "no healthy worker outside the drill's targets serves model \(sighting.model), so job \(job.jobID) cannot run again"
            }
        }
        if observation.at >= injectedAt + plan.timeoutMs {
            let waiting = tracked.filter { !$0.settled }.map(\.jobID.rawValue)
            return "the deadline (\(DrillClock.text(ms: plan.timeoutMs))) passed" +
                (waiting.isEmpty ? "" : " with \(waiting.joined(separator: ", ")) not running again") +
                (plan.profile.lasts && returnedAt == nil && plan.profile.kind != .slowWorker ? "; the targets were not heard from again" : "")
        }
        return nil
    }

    /// Whether everything the hypothesis speaks of has happened.
    func isOver(at: UInt64) -> Bool {
        let allSettled = tracked.allSatisfy(\.settled)
        switch plan.profile.kind {
        case .slowWorker:
            return report.phases.contains { $0.name == "after" }
        case .killWorker, .corruptCheckpoint:
            // Nothing ran there: the drill shows detection only.
            return allSettled && (!tracked.isEmpty || targetStates.values.contains(.lost))
        default:
            // Lasting faults: the targets are back, and had a heartbeat's time
            // to report anything stale they still run.
            guard let returnedAt, allSettled else { return false }
            return at >= returnedAt + plan.heartbeatIntervalMs
        }
    }

    /// The verdict of a drill that ran its course.
    mutating func finish(verdict at: UInt64) -> Decision {
        let recoveries = tracked.compactMap { job in job.recoveredAt.map { $0 - injectedAt } }
        let slowest = recoveries.max() ?? 0
        if let twice = tracked.first(where: \.ranTwice) {
            return finish(.fail, "job \(twice.jobID) ran twice: a superseded attempt was still reported running", at: at)
        }
        switch plan.profile.kind {
        case .slowWorker:
            let failed = report.phases.filter { $0.name != "before" }.reduce(0) { $0 + $1.jobsFailed }
            if failed > 0 { return finish(.fail, "\(failed) jobs failed while the worker was slow or after", at: at) }
            if targetStates.values.contains(.lost) { return finish(.fail, "the slow worker was declared LOST", at: at) }
            let suspect = report.events.contains { $0.text.hasSuffix(" \(WorkerState.suspect)") }
            return finish(.pass, "no job failed and no worker was declared lost\(suspect ? " (the worker was SUSPECT for a while)" : "")", at: at)
        case .corruptCheckpoint:
            if let job = tracked.first(where: { $0.jobID == plan.jobID }) {
                if !job.rejectionNoted {
                    return finish(.fail, "job \(job.jobID) resumed from step \(job.resumedStep): the damaged checkpoint was not detected", at: at)
                }
                if job.resumedStep != 0 {
                    return finish(.fail, "job \(job.jobID) resumed from step \(job.resumedStep), not 0, after its checkpoint was rejected", at: at)
                }
            }
        default:
            if let early = tracked.first(where: { $0.recoveredAttempt > $0.attempt && $0.resumedStep < $0.checkpointStep }) {
                return finish(.fail, "job \(early.jobID) resumed from step \(early.resumedStep), before its checkpoint at step \(early.checkpointStep)", at: at)
            }
        }
        if !misplaced.isEmpty {
            return finish(.fail, "new work went to faulted workers after detection: \(misplaced.joined(separator: ", "))", at: at)
        }
        if plan.objectiveMs > 0, slowest > plan.objectiveMs {
            return finish(.fail, "the slowest job ran again after \(DrillClock.text(ms: slowest)), over the \(DrillClock.text(ms: plan.objectiveMs)) objective", at: at)
        }
        let summary = tracked.isEmpty
            ? "no job was running on the target; detected in \(DrillClock.text(ms: (detectedAt ?? at) - injectedAt))"
            : "all \(tracked.count) jobs running again within \(DrillClock.text(ms: slowest)) (objective \(DrillClock.text(ms: plan.objectiveMs))); 0 failed, 0 ran twice"
        return finish(.pass, summary, at: at)
    }

    /// Writes the final report.
    mutating func finish(_ verdict: Flotilla_V1_DrillVerdict, _ reason: String, at: UInt64) -> Decision {
        note(at: at, "\(verdict == .pass ? "PASS" : verdict == .fail ? "FAIL" : "ABORTED"): \(reason)")
        report.verdict = verdict
        report.reason = reason
        report.jobs = tracked.map { job in
            var recovery = Flotilla_V1_DrillJobRecovery()
            recovery.jobID = job.jobID.rawValue
            recovery.workerBefore = job.workerBefore
            recovery.workerAfter = job.recoveredAt == nil ? "" : job.workerAfter
            recovery.stepAtInjection = job.stepAtInjection
            recovery.checkpointStep = job.checkpointStep
            recovery.resumedStep = job.resumedStep
            recovery.stepsLost = job.recoveredAt == nil ? 0 : job.stepAtInjection - min(job.stepAtInjection, job.resumedStep)
            recovery.recovered = job.recoveredAt != nil
            recovery.recoveryMs = job.recoveredAt.map { $0 - injectedAt } ?? 0
            recovery.failed = job.failed
            recovery.ranTwice = job.ranTwice
            recovery.succeeded = job.succeeded
            return recovery
        }
        let times = report.jobs.filter(\.recovered).map(\.recoveryMs).sorted()
        report.recoveryP50Ms = times.isEmpty ? 0 : times[(times.count - 1) / 2]
        report.recoveryMaxMs = times.last ?? 0
        report.recoveryMs = report.recoveryMaxMs
        report.recovered = verdict == .pass
        report.detectionMs = detectedAt.map { $0 - injectedAt } ?? 0
        report.jobsMoved = UInt32(clamping: tracked.count { $0.recoveredAt != nil && $0.recoveredAttempt > $0.attempt })
        report.jobsFailed = UInt32(clamping: tracked.count(where: \.failed))
        report.jobsLost = UInt32(clamping: tracked.count { $0.recoveredAt == nil })
        report.jobsRanTwice = UInt32(clamping: tracked.count(where: \.ranTwice))
        report.timeline = report.events.map { "\(DrillClock.offset(ms: $0.atMs)) \($0.text)" }
        decision = .ended(verdict)
        return decision
    }
}
