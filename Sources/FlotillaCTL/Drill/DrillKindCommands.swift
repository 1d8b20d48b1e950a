import ArgumentParser
import FlotillaProto

/// `flotillactl drill kill-worker`: the worker's process is killed; its jobs should run elsewhere.
struct KillWorkerDrill: DrillKindCommand {
    static let kind = Flotilla_V1_DrillRequest.Kind.killWorker
    static let configuration = CommandConfiguration(
        commandName: "kill-worker",
        abstract: "Kill a worker and measure how soon its jobs run again elsewhere, from their checkpoints.",
        discussion: DrillHelp.discussion)

    @OptionGroup var drill: DrillOptions
}

/// `flotillactl drill freeze-worker`: the worker goes silent but keeps its connection open,
/// the failure heartbeats alone must catch.
struct FreezeWorkerDrill: DrillKindCommand {
    static let kind = Flotilla_V1_DrillRequest.Kind.freezeWorker
    static let configuration = CommandConfiguration(
        commandName: "freeze-worker",
        abstract: "Freeze a worker for --duration (silent, connection open): it should be found out and its jobs moved.",
        discussion: DrillHelp.discussion)

    @OptionGroup var drill: DrillOptions
}

/// `flotillactl drill corrupt-checkpoint`: a job's latest checkpoint is damaged, then its
/// worker killed; the resuming worker should reject it and restart the job from step 0.
struct CorruptCheckpointDrill: DrillKindCommand {
    static let kind = Flotilla_V1_DrillRequest.Kind.corruptCheckpoint
    static let configuration = CommandConfiguration(
        commandName: "corrupt-checkpoint",
        abstract: "Damage a job's latest checkpoint and kill its worker: the job should restart from step 0 and say why.",
        discussion: DrillHelp.discussion)

    @OptionGroup var drill: DrillOptions
}

/// `flotillactl drill slow-worker`: every report and heartbeat of the worker is delayed;
/// the phases show what that did to queue wait and throughput.
struct SlowWorkerDrill: DrillKindCommand {
    static let kind = Flotilla_V1_DrillRequest.Kind.slowWorker
    static let configuration = CommandConfiguration(
        commandName: "slow-worker",
        abstract: "Delay a worker's reports and heartbeats by --delay for --duration; compare throughput before, during, after.",
        discussion: DrillHelp.discussion)

    @OptionGroup var drill: DrillOptions
}

/// `flotillactl drill fail-zone`: every worker labelled zone=ZONE is frozen at once.
struct FailZoneDrill: DrillKindCommand {
    static let kind = Flotilla_V1_DrillRequest.Kind.failZone
    static let configuration = CommandConfiguration(
        commandName: "fail-zone",
        abstract: "Freeze every worker labelled zone=--zone for --duration: their jobs should move to other zones.",
        discussion: DrillHelp.discussion)

    @OptionGroup var drill: DrillOptions
}
