import FlotillaCoordinatorState
import FlotillaProto

/// A drill request checked against the state: the kind's profile, the
/// workers the fault goes to, its parameters, and what the blast-radius
/// check found. Made by `DrillPlanner`; the shell injects and watches it.
public struct DrillPlan: Sendable, Hashable {
    public var profile: DrillProfile
    /// The workers the fault is sent to, in registration order.
    public var targets: [WorkerID]
    public var targetNames: [String]
    /// What the report names as the target: a worker, a zone or a job.
    public var targetText: String
    public var zone: String
    /// CORRUPT_CHECKPOINT: the job whose checkpoint is damaged, and the checkpoint.
    public var jobID: JobID?
    public var checkpoint: Flotilla_V1_Checkpoint?
    public var durationMs: UInt64
    public var delayMs: UInt64
    public var objectiveMs: UInt64
    public var timeoutMs: UInt64
    public var blastRadius: BlastRadius
    public var forced: Bool
    /// The health timings the coordinator judges workers by.
    public var heartbeatIntervalMs: UInt64

    /// The faults to send: one per target.
    public func faults(drillID: String) -> [(WorkerID, Flotilla_V1_DrillFault)] {
        targets.map { target in
            var fault = Flotilla_V1_DrillFault()
            fault.drillID = drillID
            switch profile.kind {
            case .killWorker: fault.action = .kill
            case .corruptCheckpoint:
                fault.action = .corruptCheckpoint
                fault.checkpointUri = checkpoint?.uri ?? ""
            case .slowWorker:
                fault.action = .slow
                fault.durationMs = durationMs
                fault.delayMs = delayMs
            default:
                fault.action = .freeze
                fault.durationMs = durationMs
            }
            return (target, fault)
        }
    }

    /// Undoes a lasting fault early (the drill aborted).
    public func endFaults(drillID: String) -> [(WorkerID, Flotilla_V1_DrillFault)] {
        guard profile.lasts else { return [] }
        return targets.map { target in
            var fault = Flotilla_V1_DrillFault()
            fault.drillID = drillID
            fault.action = .end
            return (target, fault)
        }
    }

    /// The record `DrillStarted` writes: everything known before the injection.
    public func startingReport(startedBy: String, baseline: Flotilla_V1_DrillBaseline) -> Flotilla_V1_DrillReport {
        var report = Flotilla_V1_DrillReport()
        report.kind = profile.kind
        report.target = targetText
        report.workers = targets.map(\.rawValue)
        report.hypothesis = profile.hypothesis
        report.objectiveMs = objectiveMs
        report.blastRadius = blastRadius.lines
        report.startedBy = startedBy
        report.durationMs = profile.lasts ? durationMs : 0
        report.delayMs = profile.kind == .slowWorker ? delayMs : 0
        report.zone = zone
        report.timeoutMs = timeoutMs
        report.forced = forced && blastRadius.isUnsafe
        report.baseline = baseline
        return report
    }
}

extension Flotilla_V1_DrillBaseline {
    /// The cluster as it stands, before a drill's fault.
    public init(_ state: CoordinatorState) {
        self.init()
        let summary = state.summary
        workersReady = UInt32(clamping: summary.workersReady)
        workersTotal = UInt32(clamping: summary.workersTotal)
        gpusTotal = UInt32(clamping: summary.gpusTotal)
        gpusAllocated = UInt32(clamping: summary.gpusAllocated)
        jobsQueued = UInt32(clamping: summary.jobsQueued)
        jobsRunning = UInt32(clamping: summary.jobsRunning)
    }
}
