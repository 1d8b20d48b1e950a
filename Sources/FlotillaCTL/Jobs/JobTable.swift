import FlotillaProto

/// The human form of `jobs list`, one row per job.
struct JobTable {
    let jobs: [Flotilla_V1_Job]
    let time: TimeText

    init(_ jobs: [Flotilla_V1_Job], time: TimeText = TimeText()) {
        self.jobs = jobs
        self.time = time
    }

    var text: String {
        guard !jobs.isEmpty else { return "no jobs" }
        var table = Table("ID", "STATE", "MODEL", "TIER", "TENANT", "GPUS", "STEP", "ATTEMPTS", "WORKER", "AGE")
        for job in jobs {
            table.append([
                job.id, job.state.name, job.modelText, job.spec.tier.name, job.spec.tenant.isEmpty ? "default" : job.spec.tenant,
                "\(job.spec.gpuCount)" + (job.spec.gpuType.isEmpty ? "" : " \(job.spec.gpuType)"),
                JobProgress.text(step: job.step, total: job.totalSteps), "\(job.attempts.count)",
                job.attempts.last.map(\.workerID).flatMap { $0.isEmpty ? nil : $0 } ?? "-",
                time.age(job.submittedUnixMs),
            ])
        }
        return table.text
    }
}

extension Flotilla_V1_Job {
    /// The model asked for, and the one that ran when a fallback stood in: "mochi-1 (ran open-sora)".
    var modelText: String {
        fallbackUsed && !modelUsed.isEmpty && modelUsed != spec.model ? "\(spec.model) (ran \(modelUsed))" : spec.model
    }
}
