import ArgumentParser
import FlotillaProto

/// What every drill subcommand takes, and the DrillRequest they make of it.
///
/// The options that fit only some kinds (`KindOption`) are refused on the others rather
/// than ignored: `--zone` on kill-worker would otherwise run a drill other than the one
/// the operator asked for. The drill's own deadline is `--drill-timeout`, because
/// `--timeout` already means the seconds to wait for an answer on every command.
struct DrillOptions: ParsableArguments {
    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp(
        "Worker id or name to fault (default: one the coordinator chooses and the blast-radius check allows). "
            + "kill-worker, freeze-worker, slow-worker.",
        valueName: "worker"))
    var target: String?

    @Option(
        name: .customLong("duration"),
        help: ArgumentHelp(
            "How long the fault lasts, e.g. 20s (default: the coordinator's, 20s). freeze-worker, slow-worker, fail-zone.",
            valueName: "duration"),
        transform: DrillDuration.milliseconds)
    var durationMilliseconds: UInt64?

    @Option(
        name: .customLong("delay"),
        help: ArgumentHelp(
            "Delay added to each of the worker's reports and heartbeats, e.g. 500ms (default: 1s). slow-worker.",
            valueName: "duration"),
        transform: DrillDuration.milliseconds)
    var delayMilliseconds: UInt64?

    @Option(name: .long, help: ArgumentHelp(
        "Zone whose workers (label zone=ZONE) are frozen. fail-zone, where it is required.", valueName: "zone"))
    var zone: String?

    @Option(name: .long, help: ArgumentHelp(
        "Job whose latest checkpoint is damaged (default: a running job with a checkpoint). corrupt-checkpoint.",
        valueName: "job-id"))
    var job: String?

    @Option(name: .long, help: ArgumentHelp(
        "How the leader is taken away: kill (SIGKILL, the default) or transfer (a graceful handover). leader-failover.",
        valueName: "kill|transfer"))
    var mode: FailoverModeArgument?

    @Option(
        name: .customLong("objective"),
        help: ArgumentHelp(
            "Recovery objective the verdict is judged by, e.g. 30s (default: the kind's).", valueName: "duration"),
        transform: DrillDuration.milliseconds)
    var objectiveMilliseconds: UInt64?

    @Option(
        name: .customLong("drill-timeout"),
        help: ArgumentHelp(
            "The drill's deadline: past it the drill is ABORTED (default: 2m). With --wait, the answer is awaited "
                + "this long plus 15s.",
            valueName: "duration"),
        transform: DrillDuration.milliseconds)
    var timeoutMilliseconds: UInt64?

    @Flag(name: .customLong("dry-run"), help: "Run the blast-radius check and choose the target; inject nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Run the drill even if the blast-radius check refuses it.")
    var force = false

    @Flag(name: .long, help: "Wait for the drill to end and print the full report; the exit status is the verdict's.")
    var wait = false

    @Flag(name: .long, help: "Print the DrillReport as JSON.")
    var json = false

    /// PROTOCOL.md Appendix A: a DrillRequest with timeout_ms 0 runs for at most 120 s,
    /// or for a lasting fault its duration (slow-worker: twice it) plus two heartbeat
    /// timeouts if that is longer. The CLI does not know the cluster's heartbeat timeout,
    /// so it allows 120 s for those two (enough for timeouts up to 60 s).
    static let defaultTimeoutMilliseconds: UInt64 = 120_000
    var defaultTimeoutMilliseconds: UInt64 {
        guard let duration = durationMilliseconds else { return Self.defaultTimeoutMilliseconds }
        return max(Self.defaultTimeoutMilliseconds, 2 * duration + Self.defaultTimeoutMilliseconds)
    }
    /// Past the drill's deadline the coordinator still writes up and sends the report.
    static let reportMarginMilliseconds: UInt64 = 15_000

    /// The options only some kinds take.
    enum KindOption: String, CaseIterable {
        case target, duration, delay, zone, job, mode

        var flag: String { "--" + rawValue }

        var kinds: [Flotilla_V1_DrillRequest.Kind] {
            switch self {
            case .target: return [.killWorker, .freezeWorker, .slowWorker]
            case .duration: return [.freezeWorker, .slowWorker, .failZone]
            case .delay: return [.slowWorker]
            case .zone: return [.failZone]
            case .job: return [.corruptCheckpoint]
            case .mode: return [.leaderFailover]
            }
        }
    }

    func given(_ option: KindOption) -> Bool {
        switch option {
        case .target: return target != nil
        case .duration: return durationMilliseconds != nil
        case .delay: return delayMilliseconds != nil
        case .zone: return zone != nil
        case .job: return job != nil
        case .mode: return mode != nil
        }
    }

    func validate() throws {
        for (flag, value) in [("--target", target), ("--zone", zone), ("--job", job)] where value?.isEmpty == true {
            throw ValidationError("\(flag) must not be empty")
        }
    }

    /// The checks that depend on the subcommand; run by each one's `validate()`.
    func validate(for kind: Flotilla_V1_DrillRequest.Kind) throws {
        for option in KindOption.allCases where given(option) && !option.kinds.contains(kind) {
            throw ValidationError(
                "\(option.flag) does not apply to \(kind.commandName); it is for "
                    + option.kinds.map(\.commandName).joined(separator: ", "))
        }
        if kind == .failZone && zone == nil {
            throw ValidationError("fail-zone needs --zone ZONE: the workers labelled zone=ZONE are frozen")
        }
    }

    /// The request for `kind`, with only the fields that kind reads; an option not given
    /// stays 0 or empty, which the coordinator reads as its default.
    func request(for kind: Flotilla_V1_DrillRequest.Kind) -> Flotilla_V1_DrillRequest {
        let takes = { (option: KindOption) in option.kinds.contains(kind) }
        var request = Flotilla_V1_DrillRequest()
        request.kind = kind
        if takes(.target) { request.target = target ?? "" }
        if takes(.duration) { request.durationMs = durationMilliseconds ?? 0 }
        if takes(.delay) { request.delayMs = delayMilliseconds ?? 0 }
        if takes(.zone) { request.zone = zone ?? "" }
        if takes(.job) { request.jobID = job ?? "" }
        if takes(.mode) { request.mode = mode == .transfer ? .transfer : .kill }
        request.objectiveMs = objectiveMilliseconds ?? 0
        request.timeoutMs = timeoutMilliseconds ?? 0
        request.dryRun = dryRun
        request.force = force
        // Detached, the coordinator answers once the fault is in; waiting, once the drill is over.
        // The leader a leader-failover takes away always answers at once (flotillactl follows).
        request.detach = !wait || kind == .leaderFailover
        return request
    }

    /// How long to wait for the DrillReport. Detached it comes once the fault is injected,
    /// so the usual --timeout; with --wait only when the drill ends, so its deadline plus
    /// the margin (PROTOCOL.md §7.2: longer than timeout_ms).
    var answerDeadlineMilliseconds: UInt64 {
        let usual = UInt64(connection.timeout * 1000)
        guard wait else { return usual }
        return max(usual, (timeoutMilliseconds ?? defaultTimeoutMilliseconds) + Self.reportMarginMilliseconds)
    }
}

/// `--mode` of leader-failover.
enum FailoverModeArgument: String, ExpressibleByArgument, CaseIterable {
    case kill, transfer
}
