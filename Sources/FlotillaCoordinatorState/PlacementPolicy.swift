import FlotillaProto

/// One queued job placed on GPUs of one worker.
public struct Placement: Hashable, Sendable {
    public var jobID: JobID
    public var workerID: WorkerID
    public var gpuIndices: [UInt32]
    /// The model to run: empty for the spec's, else a fallback.
    public var model: String
    /// The fair-share tags of this start, when the policy keeps fair share.
    public var share: ShareTags?

    public struct ShareTags: Hashable, Sendable {
        public var tier: Flotilla_V1_Tier
        public var start: UInt64
        public var finish: UInt64

        public init(tier: Flotilla_V1_Tier, start: UInt64, finish: UInt64) {
            self.tier = tier
            self.start = start
            self.finish = finish
        }
    }

    public init(jobID: JobID, workerID: WorkerID, gpuIndices: [UInt32], model: String = "", share: ShareTags? = nil) {
        self.jobID = jobID
        self.workerID = workerID
        self.gpuIndices = gpuIndices
        self.model = model
        self.share = share
    }
}

/// Chooses where queued jobs run and what to preempt for them. Pure: the
/// planner calls it with the state, the workers that may take work now and
/// the time, and proposes the commands it returns (assignments, checkpoint
/// requests for preemption victims) stamped with that time.
public protocol PlacementPolicy: Sendable {
    func place(_ state: CoordinatorState, on workers: [Worker], now: UInt64) -> [Flotilla_V1_Command]
}

/// Queue order, first worker (in registration order) that fits: the model,
/// the labels, and the GPU count and type, all on one worker. A job whose
/// last attempt ended badly on a worker goes elsewhere when it can. Honors
/// the tenant's `max_gpus` quota.
public struct FIFOPlacement: PlacementPolicy {
    public init() {}

    public func place(_ state: CoordinatorState, on workers: [Worker], now: UInt64) -> [Flotilla_V1_Command] {
        placements(state, on: workers, now: now).map { .assign($0, at: now) }
    }

    public func placements(_ state: CoordinatorState, on workers: [Worker], now: UInt64) -> [Placement] {
        // No free GPU: nothing to place, so the queue is not walked.
        guard workers.contains(where: { $0.allocations.count < $0.gpus.count }) else { return [] }
        var candidates = workers
        var gpusByTenant: [String: Int] = [:]
        for job in state.runningJobs { gpusByTenant[job.tenant, default: 0] += job.liveAttempt?.gpuIndices.count ?? 0 }

        var placements: [Placement] = []
        for job in state.queuedJobs where state.admittedModels(for: job.spec, at: now).first == job.spec.model {
            candidates.removeAll { $0.allocations.count == $0.gpus.count }
            if candidates.isEmpty { break }
            let count = Int(job.spec.gpuCount)
            if let quota = state.tenant(job.tenant), quota.maxGpus > 0,
               gpusByTenant[job.tenant, default: 0] + count > Int(quota.maxGpus) { continue }
            let avoid = job.currentAttempt?.workerID
            let fitting = candidates.indices.filter { position in
                let worker = candidates[position]
                return worker.serves(model: job.spec.model) && worker.satisfies(labels: job.spec.labels)
                    && worker.freeGPUs(ofType: job.spec.gpuType).count >= count
            }
            guard let chosen = fitting.first(where: { candidates[$0].id != avoid }) ?? fitting.first else { continue }
            let gpus = candidates[chosen].freeGPUs(ofType: job.spec.gpuType).prefix(count).map(\.index)
            // Mark the GPUs taken in our copy so that later jobs see them held.
            for index in gpus { candidates[chosen].allocations[index] = job.id }
            gpusByTenant[job.tenant, default: 0] += count
            placements.append(Placement(jobID: job.id, workerID: candidates[chosen].id, gpuIndices: Array(gpus)))
        }
        return placements
    }
}
