import FlotillaCoordinatorState
import FlotillaProto

/// What an autoscaler needs to know about the queue and the fleet at one
/// moment: queue depth and oldest wait per tier and per model, GPUs per type
/// (total and allocated), the queue demand per requested GPU type and the p99
/// queue wait of recent starts. A pure value measured from the state; it
/// costs one pass over the queued jobs and the workers, and over the running
/// and recently ended jobs (for the recent attempts), so it can be measured
/// every second; `Profile` keeps that pass while the state is unchanged.
///
/// Definitions:
/// * A queued job's wait is `now - queuedSince`, where `queuedSince` is when it
///   last entered the queue: its submission, or the end of its last attempt (a
///   retry or a job moved off a lost worker has waited since then).
/// * An attempt's queue wait is its `startedAt` minus the moment the job became
///   queued for it: the submission for attempt 1, the previous attempt's
///   `endedAt` for later ones. The p99 is over attempts started in the last
///   `p99WindowMs` (10 minutes, start included), by nearest rank (the smallest
///   wait that at least 99 % of the waits do not exceed); 0 when none started.
///   Of the jobs that ended, only the `p99RecentEndedJobs` that ended last are
///   looked at: a coordinator finishing thousands of jobs a second would
///   otherwise walk all of them on every sample, while every request waits.
/// * GPUs count on workers that are READY or DRAINING; allocated GPUs are the
///   worker's allocations. GPU types are grouped without regard to case and
///   shown as first seen (workers in registration order, then queued jobs).
///   Types known from any registered worker or asked for by a queued job are
///   listed, with 0 GPUs where no READY or DRAINING worker has them.
/// * Demand groups the queued jobs by the GPU type they ask for; a job with an
///   empty `gpu_type` takes any type and counts under `anyGPUType` ("any").
/// * Times saturate: a submission stamped after `now` has waited 0 ms.
public struct ScalingSignals: Hashable, Sendable {
    /// Queued jobs of one tier or one model.
    public struct Queue: Hashable, Sendable {
        public var queued: Int
        public var oldestWaitMs: UInt64

        public init(queued: Int = 0, oldestWaitMs: UInt64 = 0) {
            self.queued = queued
            self.oldestWaitMs = oldestWaitMs
        }

        mutating func add(waitMs: UInt64) {
            queued += 1
            oldestWaitMs = max(oldestWaitMs, waitMs)
        }
    }

    /// GPUs of one type on READY and DRAINING workers.
    public struct GPUUsage: Hashable, Sendable {
        /// As first seen (e.g. "H100" even where a later worker says "h100").
        public var gpuType: String
        public var total: Int
        public var allocated: Int

        public init(gpuType: String, total: Int = 0, allocated: Int = 0) {
            self.gpuType = gpuType
            self.total = total
            self.allocated = allocated
        }

        public var free: Int { max(total - allocated, 0) }
    }

    /// Queued jobs asking for one GPU type (or any).
    public struct Demand: Hashable, Sendable {
        /// The type's shown spelling, or `ScalingSignals.anyGPUType`.
        public var gpuType: String
        public var queued: Int
        /// GPUs the queued jobs ask for in all (`gpu_count` each).
        public var gpusRequested: Int
        public var oldestWaitMs: UInt64
        /// Each queued job's wait, in queue order.
        public var waitsMs: [UInt64]

        public init(gpuType: String, queued: Int = 0, gpusRequested: Int = 0, oldestWaitMs: UInt64 = 0,
                    waitsMs: [UInt64] = []) {
            self.gpuType = gpuType
            self.queued = queued
            self.gpusRequested = gpusRequested
            self.oldestWaitMs = oldestWaitMs
            self.waitsMs = waitsMs
        }

        /// Queued jobs that have waited strictly longer than `thresholdMs`.
        public func waiting(longerThan thresholdMs: UInt64) -> Int {
            waitsMs.reduce(0) { $0 + ($1 > thresholdMs ? 1 : 0) }
        }
    }

    /// The demand group of jobs that leave `gpu_type` empty.
    public static let anyGPUType = "any"
    /// The p99 queue wait looks at attempts started this long before `now`.
    public static let p99WindowMs: UInt64 = 10 * 60 * 1000
    /// At most this many ended jobs (the latest) count towards the p99 queue wait.
    public static let p99RecentEndedJobs = 2_000
    /// The tiers a queue exists for, highest first.
    public static let tierOrder: [Flotilla_V1_Tier] = [.premium, .standard, .free]

    /// When it was measured.
    public var measuredAt: UInt64
    /// Every tier of `tierOrder`, empty ones included.
    public var tiers: [Flotilla_V1_Tier: Queue]
    /// Models with queued jobs (by the spec's model) and models some
    /// registered worker serves, with 0 queued where none wait.
    public var models: [String: Queue]
    /// GPU types, in first-seen order.
    public var gpuTypes: [GPUUsage]
    /// Queued jobs per requested GPU type, in the order the queue first asks for them.
    public var demand: [Demand]
    /// p99 queue wait over attempts started in the last `p99WindowMs`.
    public var p99QueueWaitMs: UInt64
    /// The same per GPU type the attempts were placed on (shown spelling of
    /// `gpuTypes`); types with no recent start are absent.
    public var p99QueueWaitMsByGPUType: [String: UInt64]
    /// Attempts started in the last `p99WindowMs`.
    public var recentStarts: Int

    public init(measuredAt: UInt64 = 0, tiers: [Flotilla_V1_Tier: Queue] = [:], models: [String: Queue] = [:],
                gpuTypes: [GPUUsage] = [], demand: [Demand] = [], p99QueueWaitMs: UInt64 = 0,
                p99QueueWaitMsByGPUType: [String: UInt64] = [:], recentStarts: Int = 0) {
        self.measuredAt = measuredAt
        self.tiers = tiers
        self.models = models
        self.gpuTypes = gpuTypes
        self.demand = demand
        self.p99QueueWaitMs = p99QueueWaitMs
        self.p99QueueWaitMsByGPUType = p99QueueWaitMsByGPUType
        self.recentStarts = recentStarts
        for tier in Self.tierOrder where self.tiers[tier] == nil { self.tiers[tier] = Queue() }
    }

    /// The GPUs of a type, compared without regard to case.
    public func usage(ofType type: String) -> GPUUsage? {
        let key = Self.typeKey(type)
        return gpuTypes.first { Self.typeKey($0.gpuType) == key }
    }

    /// The queued jobs asking for a type (compared without regard to case), or
    /// for any type when `type` is `anyGPUType` or empty.
    public func demand(forType type: String) -> Demand? {
        let key = type.isEmpty ? Self.anyGPUType : Self.typeKey(type)
        return demand.first { Self.typeKey($0.gpuType) == key }
    }

    /// The p99 queue wait of recent attempts placed on GPUs of a type.
    public func p99QueueWaitMs(onType type: String) -> UInt64? {
        let key = Self.typeKey(type)
        return p99QueueWaitMsByGPUType.first { Self.typeKey($0.key) == key }?.value
    }

    static func typeKey(_ type: String) -> String { type.lowercased() }
}

// MARK: - Measuring

extension ScalingSignals {
    /// Measures the signals of `state` at `now` (unix ms). Pure; linear in
    /// jobs and workers (plus sorting the recent attempts' waits). A caller
    /// that measures often keeps the `Profile` while the state is unchanged.
    public static func measure(_ state: CoordinatorState, now: UInt64) -> ScalingSignals {
        Profile(state, now: now).signals(at: now)
    }

    /// What the signals need from one state, gathered in one walk; the
    /// signals at a later time come from it without walking the jobs again
    /// (only the waits move with the clock). Valid for `now >= builtAt`
    /// while the state's `lastAppliedIndex` is `appliedIndex`.
    public struct Profile: Sendable {
        public let appliedIndex: UInt64
        public let builtAt: UInt64
        private var gpuTypes: [GPUUsage] = []
        private var knownModels: [String] = []
        /// Queued jobs of one tier or model: how many, and the earliest `queuedSince`.
        private struct Group: Sendable {
            var queued = 0
            var since = UInt64.max
            mutating func add(_ queuedSince: UInt64) {
                queued += 1
                since = min(since, queuedSince)
            }
        }
        private var tiers: [Flotilla_V1_Tier: Group] = [:]
        private var models: [String: Group] = [:]
        /// Demand groups in first-asked order, each job's `queuedSince` in queue order.
        private var demand: [(gpuType: String, gpusRequested: Int, since: [UInt64])] = []
        /// Attempts started since `builtAt - p99WindowMs`: start, wait, GPU type.
        private var starts: [(startedAt: UInt64, waitMs: UInt64, gpuType: String?)] = []

        public init(_ state: CoordinatorState, now: UInt64) {
            appliedIndex = state.lastAppliedIndex
            builtAt = now
            var types = TypeTable()

            // GPUs per type; worker types first, so their spelling wins.
            var gpuTypeOfWorker: [WorkerID: [UInt32: String]] = [:]
            for worker in state.workers {
                let counted = worker.state == .ready || worker.state == .draining
                var byIndex: [UInt32: String] = [:]
                for gpu in worker.gpus {
                    let slot = types.slot(for: gpu.type)
                    byIndex[gpu.index] = types.usage[slot].gpuType
                    guard counted else { continue }
                    types.usage[slot].total += 1
                    if worker.allocations[gpu.index] != nil { types.usage[slot].allocated += 1 }
                }
                gpuTypeOfWorker[worker.id] = byIndex
            }
            knownModels = Array(state.knownModels)

            // The queue: tiers, models, requested types.
            var demandSlots: [String: Int] = [:]
            var requeued: [Job] = []
            for job in state.queuedJobs {
                if !job.attempts.isEmpty { requeued.append(job) }
                let since = queuedSince(job)
                tiers[job.spec.tier, default: Group()].add(since)
                models[job.spec.model, default: Group()].add(since)
                let requested = job.spec.gpuType
                let name = requested.isEmpty ? anyGPUType : types.usage[types.slot(for: requested)].gpuType
                let key = requested.isEmpty ? anyGPUType : typeKey(requested)
                let slot: Int
                if let existing = demandSlots[key] {
                    slot = existing
                } else {
                    slot = demand.count
                    demandSlots[key] = slot
                    demand.append((gpuType: name, gpusRequested: 0, since: []))
                }
                demand[slot].gpusRequested += Int(job.spec.gpuCount)
                demand[slot].since.append(since)
            }
            gpuTypes = types.usage

            // Attempts that may still be in the window at `now` or later. A job
            // that started one then is queued, running, or ended since then.
            let recent = requeued + state.runningJobs
                + state.terminalJobs(endedSince: now.saturatingSubtract(p99WindowMs), latest: p99RecentEndedJobs)
            for job in recent {
                guard let last = job.attempts.last, now.saturatingSubtract(last.startedAt) <= p99WindowMs else { continue }
                for (position, attempt) in job.attempts.enumerated().reversed() {
                    guard now.saturatingSubtract(attempt.startedAt) <= p99WindowMs else { break }
                    let queuedAt = position == 0 ? job.submittedAt : job.attempts[position - 1].endedAt
                    let type = attempt.gpuIndices.first.flatMap { gpuTypeOfWorker[attempt.workerID]?[$0] }
                    starts.append((attempt.startedAt, attempt.startedAt.saturatingSubtract(queuedAt), type))
                }
            }
        }

        /// The signals at `now` (not before `builtAt`).
        public func signals(at now: UInt64) -> ScalingSignals {
            var signals = ScalingSignals(measuredAt: now)
            for model in knownModels { signals.models[model] = Queue() }
            for (tier, group) in tiers {
                signals.tiers[tier] = Queue(queued: group.queued, oldestWaitMs: now.saturatingSubtract(group.since))
            }
            for (model, group) in models {
                signals.models[model] = Queue(queued: group.queued, oldestWaitMs: now.saturatingSubtract(group.since))
            }
            signals.demand = demand.map { group in
                let waits = group.since.map { now.saturatingSubtract($0) }
                return Demand(gpuType: group.gpuType, queued: waits.count, gpusRequested: group.gpusRequested,
                              oldestWaitMs: waits.max() ?? 0, waitsMs: waits)
            }
            signals.gpuTypes = gpuTypes

            // Queue waits of the attempts started in the window.
            var waits: [UInt64] = []
            var waitsByType: [String: [UInt64]] = [:]
            for start in starts where now.saturatingSubtract(start.startedAt) <= p99WindowMs {
                waits.append(start.waitMs)
                if let type = start.gpuType { waitsByType[type, default: []].append(start.waitMs) }
            }
            signals.recentStarts = waits.count
            signals.p99QueueWaitMs = percentile99(waits)
            signals.p99QueueWaitMsByGPUType = waitsByType.mapValues(percentile99)
            return signals
        }
    }
}

extension ScalingSignals {
    /// When the job last entered the queue: its submission, or the end of its
    /// last attempt (never before the submission).
    static func queuedSince(_ job: Job) -> UInt64 {
        guard let last = job.attempts.last else { return job.submittedAt }
        return max(last.endedAt, job.submittedAt)
    }

    /// Nearest-rank 99th percentile: the value at rank ceil(0.99 n) in
    /// ascending order; 0 for no values.
    static func percentile99(_ values: [UInt64]) -> UInt64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = (sorted.count * 99 + 99) / 100
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// GPU types by case-insensitive key, in first-seen order.
    fileprivate struct TypeTable {
        var usage: [GPUUsage] = []
        var slots: [String: Int] = [:]

        mutating func slot(for type: String) -> Int {
            let key = ScalingSignals.typeKey(type)
            if let slot = slots[key] { return slot }
            slots[key] = usage.count
            usage.append(GPUUsage(gpuType: type))
            return usage.count - 1
        }
    }
}

// MARK: - The cluster status

extension ScalingSignals {
    /// Fills the status's `queues` (premium, standard, free, empty ones
    /// included), `model_queues` (by model name), `gpu_types` (first-seen
    /// order) and `p99_queue_wait_ms`.
    public func apply(to response: inout Flotilla_V1_ClusterStatusResponse) {
        response.queues = Self.tierOrder.map { tier in
            let queue = tiers[tier] ?? Queue()
            var proto = Flotilla_V1_TierQueue()
            proto.tier = tier
            proto.queued = UInt32(clamping: queue.queued)
            proto.oldestWaitMs = queue.oldestWaitMs
            return proto
        }
        response.modelQueues = models.keys.sorted().map { model in
            let queue = models[model] ?? Queue()
            var proto = Flotilla_V1_ModelQueue()
            proto.model = model
            proto.queued = UInt32(clamping: queue.queued)
            proto.oldestWaitMs = queue.oldestWaitMs
            return proto
        }
        response.gpuTypes = gpuTypes.map { usage in
            var proto = Flotilla_V1_GpuTypeUsage()
            proto.gpuType = usage.gpuType
            proto.total = UInt32(clamping: usage.total)
            proto.allocated = UInt32(clamping: usage.allocated)
            return proto
        }
        response.p99QueueWaitMs = p99QueueWaitMs
    }
}
