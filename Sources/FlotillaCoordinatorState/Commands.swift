import FlotillaProto

/// Building the log's commands. Time is the proposer's clock reading: it is
/// read once, where the command is made, never where it is applied.
extension Flotilla_V1_Command {
    private static func at(_ at: UInt64, _ kind: OneOf_Kind) -> Self {
        var command = Self()
        command.atUnixMs = at
        command.kind = kind
        return command
    }

    public static func termStarted(leader: String, at: UInt64) -> Self {
        var command = TermStarted()
        command.leader = leader
        return .at(at, .termStarted(command))
    }

    public static func submitJob(_ spec: Flotilla_V1_JobSpec, region: String = "", at: UInt64) -> Self {
        var command = SubmitJob()
        command.spec = spec
        command.region = region
        return .at(at, .submitJob(command))
    }

    public static func cancelJob(_ jobID: JobID, reason: String = "", at: UInt64) -> Self {
        var command = CancelJob()
        command.jobID = jobID.rawValue
        command.reason = reason
        return .at(at, .cancelJob(command))
    }

    public static func assign(_ placement: Placement, at: UInt64) -> Self {
        var command = AssignAttempt()
        command.jobID = placement.jobID.rawValue
        command.workerID = placement.workerID.rawValue
        command.gpuIndices = placement.gpuIndices
        command.model = placement.model
        if let share = placement.share {
            command.shareTier = share.tier
            command.shareStart = share.start
            command.shareFinish = share.finish
        }
        return .at(at, .assign(command))
    }

    public static func progress(_ report: Flotilla_V1_ProgressReport, at: UInt64) -> Self {
        var command = RecordProgress()
        command.report = report
        return .at(at, .progress(command))
    }

    public static func checkpoint(_ report: Flotilla_V1_CheckpointReport, at: UInt64) -> Self {
        var command = RecordCheckpoint()
        command.report = report
        return .at(at, .checkpoint(command))
    }

    public static func finish(_ result: Flotilla_V1_AttemptResult, checkpointUnusable: Bool = false, at: UInt64) -> Self {
        var command = FinishAttempt()
        command.result = result
        command.checkpointUnusable = checkpointUnusable
        return .at(at, .finish(command))
    }

    public static func requestCheckpoint(_ jobID: JobID, token: FencingToken, reason: CheckpointReason,
                                         graceMs: UInt32, at: UInt64) -> Self {
        var command = RequestCheckpoint()
        command.jobID = jobID.rawValue
        command.token = token.proto
        command.reason = reason.proto
        command.graceMs = graceMs
        return .at(at, .requestCheckpoint(command))
    }

    public static func preempt(_ jobID: JobID, token: FencingToken, reason: CheckpointReason, at: UInt64) -> Self {
        var command = PreemptAttempt()
        command.jobID = jobID.rawValue
        command.token = token.proto
        command.reason = reason.proto
        return .at(at, .preempt(command))
    }

    public static func registerWorker(_ registration: Flotilla_V1_RegisterWorkerRequest, address: String = "",
                                      at: UInt64) -> Self {
        var command = RegisterWorker()
        command.registration = registration
        command.address = address
        return .at(at, .registerWorker(command))
    }

    public static func heartbeat(_ heartbeat: Flotilla_V1_HeartbeatRequest, at: UInt64) -> Self {
        var command = WorkerHeartbeat()
        command.heartbeat = heartbeat
        return .at(at, .heartbeat(command))
    }

    /// `lastHeartbeatAt`: the worker's heartbeat time the proposer judged by.
    public static func suspect(_ workerID: WorkerID, lastHeartbeatAt: UInt64, at: UInt64) -> Self {
        var command = MarkWorkerSuspect()
        command.workerID = workerID.rawValue
        command.lastHeartbeatUnixMs = lastHeartbeatAt
        return .at(at, .suspect(command))
    }

    public static func lost(_ workerID: WorkerID, lastHeartbeatAt: UInt64, reason: String, at: UInt64) -> Self {
        var command = MarkWorkerLost()
        command.workerID = workerID.rawValue
        command.lastHeartbeatUnixMs = lastHeartbeatAt
        command.reason = reason
        return .at(at, .lost(command))
    }

    public static func drain(_ workerID: WorkerID, reason: String, fromWorker: Bool = false, at: UInt64) -> Self {
        var command = DrainWorker()
        command.workerID = workerID.rawValue
        command.reason = reason
        command.fromWorker = fromWorker
        return .at(at, .drain(command))
    }

    public static func setTenant(_ tenant: Flotilla_V1_TenantQuota, at: UInt64) -> Self {
        var command = SetTenant()
        command.tenant = tenant
        return .at(at, .setTenant(command))
    }

    public static func configureBreakers(_ policy: BreakerPolicy, at: UInt64) -> Self {
        var command = ConfigureBreakers()
        command.policy = policy.proto
        return .at(at, .configureBreakers(command))
    }

    public static func drillStarted(_ report: Flotilla_V1_DrillReport, at: UInt64) -> Self {
        var command = DrillStarted()
        command.report = report
        return .at(at, .drillStarted(command))
    }

    public static func drillEnded(_ report: Flotilla_V1_DrillReport, at: UInt64) -> Self {
        var command = DrillEnded()
        command.report = report
        return .at(at, .drillEnded(command))
    }

    public static func breakerAction(_ model: String, _ action: Flotilla_V1_BreakerActionRequest.Action, at: UInt64) -> Self {
        var command = ActOnBreaker()
        command.model = model
        command.action = action
        return .at(at, .breakerAction(command))
    }
}
