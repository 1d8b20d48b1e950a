import FlotillaProto

// The names an operator reads in drill output: kinds as the subcommands spell them
// ("kill-worker"), verdicts without the proto prefix that --json keeps.

extension Flotilla_V1_DrillRequest.Kind {
    /// The subcommand's name; also how reports name the kind.
    var commandName: String {
        switch self {
        case .unspecified: return "unknown"
        case .killWorker: return "kill-worker"
        case .leaderFailover: return "leader-failover"
        case .regionFailover: return "region-failover"
        case .freezeWorker: return "freeze-worker"
        case .corruptCheckpoint: return "corrupt-checkpoint"
        case .slowWorker: return "slow-worker"
        case .failZone: return "fail-zone"
        case .UNRECOGNIZED(let value): return "kind-\(value)"
        }
    }

    /// What the objective bounds, so "30s" reads as "running again within 30s".
    var objectivePhrase: String {
        switch self {
        case .leaderFailover: return "a new leader within"
        case .regionFailover: return "traffic moved within"
        case .slowWorker: return "recovered within"
        default: return "running again within"
        }
    }
}

extension Flotilla_V1_DrillVerdict {
    var name: String {
        switch self {
        case .unspecified: return "UNKNOWN"
        case .running: return "RUNNING"
        case .pass: return "PASS"
        case .fail: return "FAIL"
        case .aborted: return "ABORTED"
        case .refused: return "REFUSED"
        case .dryRun: return "DRY RUN"
        case .UNRECOGNIZED(let value): return "VERDICT_\(value)"
        }
    }
}
