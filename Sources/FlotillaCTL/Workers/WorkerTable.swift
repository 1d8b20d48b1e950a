import FlotillaProto

/// The human form of `workers list`, one row per worker.
struct WorkerTable {
    let workers: [Flotilla_V1_WorkerInfo]
    let time: TimeText

    init(_ workers: [Flotilla_V1_WorkerInfo], time: TimeText = TimeText()) {
        self.workers = workers
        self.time = time
    }

    var text: String {
        guard !workers.isEmpty else { return "no workers" }
        var table = Table("ID", "NAME", "STATE", "GPUS", "MODELS", "LAST-HEARTBEAT", "RUNNING")
        for worker in workers {
            table.append([
                worker.id, worker.name, worker.state.name, Self.gpus(worker),
                worker.models.isEmpty ? "-" : worker.models.joined(separator: ","),
                time.age(worker.lastHeartbeatUnixMs), "\(worker.running.count)",
            ])
        }
        return table.text
    }

    /// "2/4 H100": allocated of total, then the GPU types (all of them when mixed).
    static func gpus(_ worker: Flotilla_V1_WorkerInfo) -> String {
        var types: [String] = []
        for gpu in worker.gpus where !gpu.type.isEmpty && !types.contains(gpu.type) { types.append(gpu.type) }
        let count = "\(worker.gpusAllocated)/\(worker.gpus.count)"
        return types.isEmpty ? count : count + " " + types.joined(separator: ",")
    }
}
