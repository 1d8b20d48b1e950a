import FlotillaCoordinatorState
import FlotillaProto

/// One round of scheduling: the working copy of capacity, fair-share tags,
/// tenant usage and probe slots that the decisions change as they are made.
struct SchedulingRound {
    let policy: SchedulerPolicy
    let state: CoordinatorState
    let now: UInt64
    var capacity: CapacityView
    var decision = SchedulingDecision()

    private var virtualTime: UInt64
    private var pass: [Flotilla_V1_Tier: UInt64]
    var gpusByTenant: [String: Int] = [:]
    var gpusByTier: [Flotilla_V1_Tier: Int] = [:]
    /// HALF_OPEN models: probe slots left this round.
    private var probesLeft: [String: Int] = [:]
    /// (model, type, count, labels) shapes that fit nowhere this round.
    private var unfitShapes: Set<String> = []
    var preemptionPlans = 0
    /// Victims chosen this round (not yet checkpointing in the state).
    var chosenVictims: Set<JobID> = []

    init(policy: SchedulerPolicy, state: CoordinatorState, workers: [Worker], now: UInt64) {
        self.policy = policy
        self.state = state
        self.now = now
        capacity = CapacityView(state, workers: workers)
        virtualTime = state.fairShare.virtualTime
        pass = [.premium: state.fairShare.pass(of: .premium), .standard: state.fairShare.pass(of: .standard),
                .free: state.fairShare.pass(of: .free)]
        for job in state.runningJobs {
            let gpus = job.liveAttempt?.gpuIndices.count ?? 0
            gpusByTenant[job.tenant, default: 0] += gpus
            gpusByTier[job.spec.tier, default: 0] += gpus
        }
    }

    /// A queued job that may start now, with what it may run.
    struct Candidate {
        var job: Job
        /// Admitted models, preferred first (the spec's, then fallbacks).
        var models: [String]
        /// Its tier after aging.
        var tier: Flotilla_V1_Tier
    }

    mutating func run() {
        var candidates = state.queuedJobs.compactMap(candidate)
        // Premium below its weighted share goes first (and may preempt); a job
        // waiting past the reservation threshold next (and may reserve).
        candidates = urgentPass(candidates)
        fairSharePass(candidates)
    }

    // MARK: - Eligibility and order

    func candidate(_ job: Job) -> Candidate? {
        if let last = job.currentAttempt, last.state == .failed, last.countsAgainstMaxAttempts {
            let ready = last.endedAt.saturatingAdd(policy.retry.delayMs(job: job.id, failures: job.consumedAttempts))
            if now < ready { return nil }
        }
        let models = state.admittedModels(for: job.spec, at: now)
        guard !models.isEmpty else { return nil }
        var rank = job.spec.tier.rank
        if policy.agingIntervalMs > 0 {
            rank -= Int(min(UInt64(rank), now.saturatingSubtract(job.submittedAt) / policy.agingIntervalMs))
        }
        return Candidate(job: job, models: models, tier: .ranked(rank))
    }

    /// The tier whose next start has the smallest tag (start-time fair queuing).
    func startTag(_ tier: Flotilla_V1_Tier) -> UInt64 { max(pass[tier] ?? 0, virtualTime) }

    var premiumBelowShare: Bool {
        let total = capacity.workers.reduce(0) { $0 + $1.gpus.count }
        let weights = [Flotilla_V1_Tier.premium, .standard, .free].reduce(0) { $0 + policy.weight(of: $1) }
        return UInt64(gpusByTier[.premium] ?? 0) * weights < UInt64(total) * policy.weight(of: .premium)
    }

    mutating func urgentPass(_ candidates: [Candidate]) -> [Candidate] {
        let premiumFirst = policy.preemption.enabled && premiumBelowShare
        var rest: [Candidate] = []
        for candidate in candidates {
            let job = candidate.job
            let starving = policy.reserveAfterMs > 0 && now.saturatingSubtract(job.queuedSince) >= policy.reserveAfterMs
            let premium = premiumFirst && job.spec.tier == .premium
            guard premium || starving else {
                rest.append(candidate)
                continue
            }
            if place(candidate) { continue }
            if premium, makeRoom(for: candidate) { continue }
            if starving { reserve(for: candidate) }
        }
        return rest
    }

    /// Tiers by start tag, tenants by GPUs held, each tenant's jobs in order.
    mutating func fairSharePass(_ candidates: [Candidate]) {
        var lanes: [[String: [Candidate]]] = [[:], [:], [:]]
        for candidate in candidates { lanes[candidate.tier.rank][candidate.job.tenant, default: []].append(candidate) }
        var heads: [[String: Int]] = [[:], [:], [:]]
        var remaining = candidates.count
        while remaining > 0, capacity.freeTotal > 0 {
            let rank = (0..<3).filter { rank in
                lanes[rank].contains { heads[rank][$0.key, default: 0] < $0.value.count }
            }.min { (startTag(.ranked($0)), $0) < (startTag(.ranked($1)), $1) }
            guard let rank else { break }
            let tenant = lanes[rank].filter { heads[rank][$0.key, default: 0] < $0.value.count }
                .min { first, second in
                    let a = (gpusByTenant[first.key] ?? 0, first.value[heads[rank][first.key, default: 0]].job.sequence)
                    let b = (gpusByTenant[second.key] ?? 0, second.value[heads[rank][second.key, default: 0]].job.sequence)
                    return a < b
                }!.key
            let candidate = lanes[rank][tenant]![heads[rank][tenant, default: 0]]
            heads[rank][tenant, default: 0] += 1
            remaining -= 1
            _ = place(candidate)
        }
    }

    // MARK: - Placement

    /// Gang placement on one worker, best fit: the fewest GPUs left free,
    /// then a worker already running the model, then the fewest of the
    /// tenant's jobs, then not the worker its last attempt ended on.
    mutating func place(_ candidate: Candidate) -> Bool {
        let job = candidate.job
        let count = Int(job.spec.gpuCount)
        let type = job.spec.gpuType
        if let quota = state.tenant(job.tenant), quota.maxGpus > 0,
           (gpusByTenant[job.tenant] ?? 0) + count > Int(quota.maxGpus) { return false }
        let holdsReservation = capacity.reservedFor.values.contains(job.id)
        for model in candidate.models where probeSlotFree(model) {
            let shape = "\(model)|\(type.lowercased())|\(count)|\(job.spec.labels.sorted { $0.key < $1.key })"
            if !holdsReservation, unfitShapes.contains(shape) { continue }
            var best: (key: (Int, Int, Int, Int, Int), position: Int)?
            for position in capacity.positions(serving: model) where capacity.isOpen(position, to: job.id) {
                let worker = capacity.workers[position]
                guard worker.satisfies(labels: job.spec.labels) else { continue }
                let free = capacity.freeCount(position, type: type)
                guard free >= count else { continue }
                let key = (free - count, capacity.isRunning(model, on: position) ? 0 : 1,
                           capacity.tenantJobs(position, job.tenant),
                           job.currentAttempt?.workerID == worker.id ? 1 : 0, position)
                if best.map({ key < $0.key }) ?? true { best = (key, position) }
            }
            guard let position = best?.position else {
                if !holdsReservation { unfitShapes.insert(shape) }
                continue
            }
            start(candidate, model: model, on: position)
            return true
        }
        return false
    }

    private mutating func start(_ candidate: Candidate, model: String, on position: Int) {
        let job = candidate.job
        let count = Int(job.spec.gpuCount)
        let gpus = capacity.take(position, type: job.spec.gpuType, count: count, job: job, model: model)
        let tagStart = startTag(candidate.tier)
        let tagFinish = tagStart.saturatingAdd(UInt64(count) * 1_000_000 / policy.weight(of: candidate.tier))
        pass[candidate.tier] = tagFinish
        virtualTime = max(virtualTime, tagStart)
        gpusByTenant[job.tenant, default: 0] += count
        gpusByTier[job.spec.tier, default: 0] += count
        if let left = probesLeft[model] { probesLeft[model] = left - 1 }
        decision.placements.append(Placement(
            jobID: job.id, workerID: capacity.workers[position].id, gpuIndices: gpus,
            model: model == job.spec.model ? "" : model,
            share: .init(tier: candidate.tier, start: tagStart, finish: tagFinish)))
        decision.reservations = decision.reservations.filter { $0.value != job.id }
    }

    /// A HALF_OPEN breaker admits only its probe slots; others admit all.
    private mutating func probeSlotFree(_ model: String) -> Bool {
        if probesLeft[model] == nil {
            let breaker = state.breaker(model)
            guard case .probe = breaker.admission(at: now, policy: state.breakerPolicy) else { return true }
            probesLeft[model] = max(0, state.breakerPolicy.halfOpenProbes - breaker.probesAdmitted)
        }
        return (probesLeft[model] ?? 0) > 0
    }

    /// Keeps the worker that will fit the job soonest (fewest GPUs to free).
    mutating func reserve(for candidate: Candidate) {
        let job = candidate.job
        let count = Int(job.spec.gpuCount)
        var best: (key: (Int, Int), position: Int)?
        for model in candidate.models {
            for position in capacity.positions(serving: model) where capacity.reservedFor[position] == nil {
                guard capacity.workers[position].satisfies(labels: job.spec.labels),
                      capacity.totalCount(position, type: job.spec.gpuType) >= count else { continue }
                let key = (count - capacity.freeCount(position, type: job.spec.gpuType), position)
                if best.map({ key < $0.key }) ?? true { best = (key, position) }
            }
        }
        if let position = best?.position { hold(position, for: job.id) }
    }

    mutating func hold(_ position: Int, for job: JobID) {
        capacity.reserve(position, for: job)
        decision.reservations[capacity.workers[position].id] = job
    }
}
