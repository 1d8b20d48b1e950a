import FlotillaCoordinatorState
import FlotillaProto

/// What taking the targets out would leave. Unsafe, and refused unless
/// forced: the last healthy workers serving a model that has queued or
/// running work, or targets holding every healthy GPU of a type in use.
public struct BlastRadius: Sendable, Hashable {
    /// Each reason the drill is unsafe.
    public var unsafe: [String] = []
    /// What the check found, safe or not, for the report.
    public var findings: [String] = []

    public var isUnsafe: Bool { !unsafe.isEmpty }
    public var lines: [String] { unsafe.map { "UNSAFE: \($0)" } + findings }

    public init(unsafe: [String] = [], findings: [String] = []) {
        self.unsafe = unsafe
        self.findings = findings
    }

    /// The check for faulting `targets` (all of them at once).
    public static func check(_ targets: [Worker], in state: CoordinatorState) -> BlastRadius {
        var radius = BlastRadius()
        let targetIDs = Set(targets.map(\.id))
        let names = targets.map(\.name).joined(separator: ", ")
        let survivors = state.workers.filter { $0.acceptsWork && !targetIDs.contains($0.id) }
        let running = targets.reduce(0) { $0 + state.jobs(holding: $1).count }
        radius.findings.append("\(targets.count) worker\(targets.count == 1 ? "" : "s") faulted (\(names)), running \(running) job\(running == 1 ? "" : "s")")
        radius.findings.append("\(survivors.count) other healthy worker\(survivors.count == 1 ? "" : "s") with \(survivors.reduce(0) { $0 + $1.gpus.count }) GPUs remain")

        // Models: work waiting or running that only the targets could serve.
        let demand = modelDemand(in: state)
        let targetModels = Set(targets.flatMap(\.models))
        for model in targetModels.sorted() {
            let others = survivors.filter { $0.serves(model: model) }.count
            let work = demand[model] ?? 0
            if work > 0 && others == 0 {
                radius.unsafe.append("\(names) \(targets.count == 1 ? "is the last healthy worker" : "are the last healthy workers") serving model \(model), which has \(work) queued or running job\(work == 1 ? "" : "s")")
            } else if work > 0 {
                radius.findings.append("model \(model): \(work) queued or running, \(others) other healthy worker\(others == 1 ? "" : "s") serve it")
            }
        }

        // GPU types: every healthy GPU of a type in use sits on the targets.
        for type in gpuTypesInUse(state).sorted() {
            let onTargets = targets.flatMap(\.gpus).filter { Worker.gpu($0, matches: type) }.count
            let elsewhere = survivors.flatMap(\.gpus).filter { Worker.gpu($0, matches: type) }.count
            if onTargets > 0 && elsewhere == 0 {
                radius.unsafe.append("\(names) \(targets.count == 1 ? "holds" : "hold") all \(onTargets) healthy GPU\(onTargets == 1 ? "" : "s") of type \(type), which queued or running jobs use")
            }
        }
        return radius
    }

    /// Queued and running jobs by the model they need.
    static func modelDemand(in state: CoordinatorState) -> [String: Int] {
        var demand: [String: Int] = [:]
        for job in state.queuedJobs { demand[job.spec.model, default: 0] += 1 }
        for job in state.runningJobs { demand[job.modelUsed, default: 0] += 1 }
        return demand
    }

    /// GPU types queued or running jobs ask for. A job that names no type
    /// runs on any GPU, so the type it happens to hold does not count.
    static func gpuTypesInUse(_ state: CoordinatorState) -> Set<String> {
        var types = Set<String>()
        for job in state.queuedJobs + state.runningJobs where !job.spec.gpuType.isEmpty {
            types.insert(job.spec.gpuType.uppercased())
        }
        return types
    }
}
