import FlotillaCoordinatorState
import FlotillaProto

/// The workers that may take work this round, as the scheduler fills them:
/// GPUs it hands out are marked held at once, so one round never gives a GPU
/// twice; reservations keep a worker for one job.
struct CapacityView {
    let workers: [Worker]
    /// GPUs handed out this round, per worker position.
    private var taken: [Set<UInt32>]
    /// Free GPUs per position and lower-cased type ("" counts every type):
    /// the best-fit search reads these for every worker, for every job.
    private var freeByType: [[String: Int]]
    private let totalByType: [[String: Int]]
    /// Per position, read in the best-fit loop without copying whole workers.
    let workerIDs: [WorkerID]
    private let labels: [[String: String]]
    private var positionsByWorker: [WorkerID: Int] = [:]
    /// Worker positions serving each model, in registration order.
    private var positionsByModel: [String: [Int]] = [:]
    /// Jobs of each tenant on each worker (spreading a tenant's jobs).
    private var tenantJobs: [[String: Int]]
    /// Models running on each worker (affinity: it has the model loaded).
    private var runningModels: [Set<String>]
    private(set) var reservedFor: [Int: JobID] = [:]
    private(set) var freeTotal = 0

    init(_ state: CoordinatorState, workers: [Worker]) {
        self.workers = workers
        taken = Array(repeating: [], count: workers.count)
        workerIDs = workers.map(\.id)
        labels = workers.map(\.labels)
        totalByType = workers.map { worker in
            var total: [String: Int] = [:]
            for gpu in worker.gpus {
                total[gpu.type.lowercased(), default: 0] += 1
                total["", default: 0] += 1
            }
            return total
        }
        freeByType = workers.map { worker in
            var free: [String: Int] = [:]
            for gpu in worker.gpus where worker.allocations[gpu.index] == nil {
                free[gpu.type.lowercased(), default: 0] += 1
                free["", default: 0] += 1
            }
            return free
        }
        tenantJobs = Array(repeating: [:], count: workers.count)
        runningModels = Array(repeating: [], count: workers.count)
        for (position, worker) in workers.enumerated() {
            positionsByWorker[worker.id] = position
            for model in worker.models { positionsByModel[model, default: []].append(position) }
            freeTotal += worker.gpus.count - worker.allocations.count
            for jobID in Set(worker.allocations.values) {
                guard let job = state.job(jobID) else { continue }
                tenantJobs[position][job.tenant, default: 0] += 1
                runningModels[position].insert(job.modelUsed)
            }
        }
    }

    func positions(serving model: String) -> [Int] { positionsByModel[model] ?? [] }

    func freeCount(_ position: Int, type: String) -> Int {
        freeByType[position][type.lowercased()] ?? 0
    }

    /// Free GPUs of `type`, lowest index first.
    func freeGPUs(_ position: Int, type: String) -> [UInt32] {
        let worker = workers[position]
        return worker.gpus.filter {
            worker.allocations[$0.index] == nil && !taken[position].contains($0.index) && Worker.gpu($0, matches: type)
        }.map(\.index).sorted()
    }

    func totalCount(_ position: Int, type: String) -> Int {
        totalByType[position][type.lowercased()] ?? 0
    }

    func position(of worker: WorkerID) -> Int? { positionsByWorker[worker] }

    /// Every pair `required` names is among the worker's labels.
    func satisfies(_ position: Int, labels required: [String: String]) -> Bool {
        required.isEmpty || required.allSatisfy { labels[position][$0.key] == $0.value }
    }

    func tenantJobs(_ position: Int, _ tenant: String) -> Int { tenantJobs[position][tenant] ?? 0 }
    func isRunning(_ model: String, on position: Int) -> Bool { runningModels[position].contains(model) }

    /// Whether `job` may start on the worker: free of reservations, or reserved for it.
    func isOpen(_ position: Int, to job: JobID) -> Bool { reservedFor[position].map { $0 == job } ?? true }

    mutating func reserve(_ position: Int, for job: JobID) { reservedFor[position] = job }

    /// Marks `count` free GPUs of `type` held by `job`, lowest index first.
    mutating func take(_ position: Int, type: String, count: Int, job: Job, model: String) -> [UInt32] {
        let indices = Array(freeGPUs(position, type: type).prefix(count))
        taken[position].formUnion(indices)
        for index in indices {
            guard let gpu = workers[position].gpus.first(where: { $0.index == index }) else { continue }
            freeByType[position][gpu.type.lowercased(), default: 1] -= 1
            freeByType[position]["", default: 1] -= 1
        }
        freeTotal -= indices.count
        tenantJobs[position][job.tenant, default: 0] += 1
        runningModels[position].insert(model)
        if reservedFor[position] == job.id { reservedFor[position] = nil }
        return indices
    }
}
