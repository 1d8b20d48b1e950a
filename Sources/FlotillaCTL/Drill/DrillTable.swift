import FlotillaProto

/// The human form of `drill list`, one row per drill in the coordinator's order (newest first).
struct DrillTable {
    let drills: [Flotilla_V1_DrillReport]
    let time: TimeText

    init(_ drills: [Flotilla_V1_DrillReport], time: TimeText = TimeText()) {
        self.drills = drills
        self.time = time
    }

    var text: String {
        guard !drills.isEmpty else { return "no drills" }
        var table = Table("ID", "KIND", "TARGET", "VERDICT", "STARTED", "DETECTION", "RECOVERY", "BY")
        for drill in drills {
            // The slowest job's recovery; a coordinator older than per-job recoveries has only recovery_ms.
            let recovery = drill.recoveryMaxMs > 0 ? drill.recoveryMaxMs : drill.recoveryMs
            table.append([
                drill.id, drill.kind.commandName, drill.target.isEmpty ? "-" : drill.target, drill.verdict.name,
                time.age(drill.startedUnixMs), drill.detectionMs > 0 ? DrillDuration.text(drill.detectionMs) : "-",
                recovery > 0 ? DrillDuration.text(recovery) : "-", drill.startedBy.isEmpty ? "-" : drill.startedBy,
            ])
        }
        return table.text
    }
}
