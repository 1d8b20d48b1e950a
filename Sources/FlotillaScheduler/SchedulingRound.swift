import DequeModule
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
    /// The queue as the round found it, and the candidates made of it so far (by position).
    private var entries: Deque<QueueEntry> = []
    private var candidates: [Int: Candidate?] = [:]

    private var virtualTime: UInt64
    private var pass: [Flotilla_V1_Tier: UInt64]
    var gpusByTenant: [String: Int] = [:]
    var gpusByTier: [Flotilla_V1_Tier: Int] = [:]
    /// HALF_OPEN models: probe slots left this round.
    private var probesLeft: [String: Int] = [:]
    /// Shapes of job that fit nowhere this round: later ones are not searched for.
    private var unfitShapes: Set<Shape> = []

    struct Shape: Hashable {
        var model: String
        var type: String
        var count: Int
        var labels: [String: String]
    }
    var preemptionPlans = 0
    /// Victims chosen this round (not yet checkpointing in the state).
    var chosenVictims: Set<JobID> = []
    /// GPUs (by lower-cased type, "" for all) that preemption victims are
    /// freeing, per worker position.
    var pendingByPosition: [Int: [String: Int]] = [:]
    /// Shapes for which no worker can be made room for this round.
    var noRoomShapes: Set<Shape> = []
    /// When each reserved worker is expected to fit its job; nil: unknown.
    var reservationEnds: [Int: UInt64?] = [:]
    /// Observed milliseconds per step, per model (from running attempts).
    var msPerStepByModel: [String: UInt64] = [:]

    init(policy: SchedulerPolicy, state: CoordinatorState, workers: [Worker], now: UInt64) {
        self.policy = policy
        self.state = state
        self.now = now
        capacity = CapacityView(state, workers: workers)
        virtualTime = state.fairShare.virtualTime
        pass = [.premium: state.fairShare.pass(of: .premium), .standard: state.fairShare.pass(of: .standard),
                .free: state.fairShare.pass(of: .free)]
        var stepRates: [String: (ms: UInt64, steps: UInt64)] = [:]
        for job in state.runningJobs {
            guard let attempt = job.liveAttempt else { continue }
            if let rate = Self.msPerStep(job, attempt, now: now) {
                stepRates[attempt.model, default: (0, 0)].ms += rate
                stepRates[attempt.model, default: (0, 0)].steps += 1
            }
            gpusByTenant[job.tenant, default: 0] += attempt.gpuIndices.count
            gpusByTier[job.spec.tier, default: 0] += attempt.gpuIndices.count
            if attempt.state == .checkpointing, attempt.checkpointReason == .preemption,
               let position = capacity.position(of: attempt.workerID) {
                addPending(attempt, on: position)
            }
        }
        msPerStepByModel = stepRates.mapValues { $0.ms / max(1, $0.steps) }
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
        entries = state.queueEntries
        // Premium below its weighted share goes first (and may preempt); a job
        // waiting past the reservation threshold next (and may reserve). Both
        // passes work on queue positions and look at a job itself (a large
        // value) only when it is reached: a round of a long queue with few free
        // GPUs walks the queue's entries and a few jobs, not every job.
        let rest = urgentPass()
        fairSharePass(rest)
    }

    // MARK: - Eligibility and order

    func candidate(_ job: Job) -> Candidate? {
        if let last = job.currentAttempt, last.state == .failed, last.countsAgainstMaxAttempts {
            let ready = last.endedAt.saturatingAdd(policy.retry.delayMs(job: job.id, failures: job.consumedAttempts))
            if now < ready { return nil }
        }
        let models = state.admittedModels(for: job.spec, at: now)
        guard !models.isEmpty else { return nil }
        return Candidate(job: job, models: models, tier: .ranked(rank(of: job.spec.tier, submittedAt: job.submittedAt)))
    }

    /// The queued job at `position` as a candidate, or nil while it may not start
    /// (retry backoff, no admitted model); made once per round.
    mutating func candidate(at position: Int) -> Candidate? {
        if let made = candidates[position] { return made }
        let made = state.job(entries[position].jobID).flatMap(candidate)
        candidates[position] = made
        return made
    }

    /// A tier's rank after aging: one step up per `agingIntervalMs` waited.
    func rank(of tier: Flotilla_V1_Tier, submittedAt: UInt64) -> Int {
        var rank = tier.rank
        if policy.agingIntervalMs > 0 {
            rank -= Int(min(UInt64(rank), now.saturatingSubtract(submittedAt) / policy.agingIntervalMs))
        }
        return rank
    }

    /// The tier whose next start has the smallest tag (start-time fair queuing).
    func startTag(_ tier: Flotilla_V1_Tier) -> UInt64 { max(pass[tier] ?? 0, virtualTime) }

    var premiumBelowShare: Bool {
        let total = capacity.workers.reduce(0) { $0 + $1.gpus.count }
        let weights = [Flotilla_V1_Tier.premium, .standard, .free].reduce(0) { $0 + policy.weight(of: $1) }
        return UInt64(gpusByTier[.premium] ?? 0) * weights < UInt64(total) * policy.weight(of: .premium)
    }

    /// The queue positions it left for the fair-share pass.
    mutating func urgentPass() -> [Int] {
        let premiumFirst = policy.preemption.enabled && premiumBelowShare
        var rest: [Int] = []
        rest.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() {
            let starving = policy.reserveAfterMs > 0 && now.saturatingSubtract(entry.queuedSince) >= policy.reserveAfterMs
            let premium = premiumFirst && entry.tier == .premium
            guard premium || starving else {
                rest.append(position)
                continue
            }
            guard let candidate = candidate(at: position) else { continue }
            if place(candidate) { continue }
            if premium, makeRoom(for: candidate) { continue }
            if starving { reserve(for: candidate) }
        }
        return rest
    }

    /// One tenant's queued jobs of one tier, oldest first (queue positions).
    struct TenantLane {
        var tenant: String
        var positions: [Int]
        var head = 0
        var isEmpty: Bool { head >= positions.count }
    }

    /// Tiers by start tag, tenants by GPUs held, each tenant's jobs in order.
    /// `order`: the queue positions to consider, in queue order.
    mutating func fairSharePass(_ order: [Int]) {
        var lanes: [[TenantLane]] = [[], [], []]
        var laneIndex: [[String: Int]] = [[:], [:], [:]]
        var remainingByRank = [0, 0, 0]
        for position in order {
            let entry = entries[position]
            let rank = rank(of: entry.tier, submittedAt: entry.submittedAt)
            remainingByRank[rank] += 1
            if let index = laneIndex[rank][entry.tenant] {
                lanes[rank][index].positions.append(position)
            } else {
                laneIndex[rank][entry.tenant] = lanes[rank].count
                lanes[rank].append(TenantLane(tenant: entry.tenant, positions: [position]))
            }
        }
        // Every lane's head is a job that may start (the others are passed over as
        // if they were not queued): the choices below compare heads.
        for rank in 0..<3 {
            for index in lanes[rank].indices { settle(&lanes[rank][index], &remainingByRank[rank]) }
        }
        while capacity.freeTotal > 0 {
            var chosenRank: Int?
            for rank in 0..<3 where remainingByRank[rank] > 0 {
                if let current = chosenRank, startTag(.ranked(current)) <= startTag(.ranked(rank)) { continue }
                chosenRank = rank
            }
            guard let rank = chosenRank else { break }
            var chosen = -1
            for (index, lane) in lanes[rank].enumerated() where !lane.isEmpty {
                if chosen >= 0 {
                    let best = lanes[rank][chosen]
                    let a = (gpusByTenant[lane.tenant] ?? 0, entries[lane.positions[lane.head]].sequence)
                    let b = (gpusByTenant[best.tenant] ?? 0, entries[best.positions[best.head]].sequence)
                    if a >= b { continue }
                }
                chosen = index
            }
            let position = lanes[rank][chosen].positions[lanes[rank][chosen].head]
            lanes[rank][chosen].head += 1
            remainingByRank[rank] -= 1
            settle(&lanes[rank][chosen], &remainingByRank[rank])
            guard let candidate = candidate(at: position) else { continue }
            _ = place(candidate)
        }
    }

    /// Moves the lane's head past jobs that may not start now.
    private mutating func settle(_ lane: inout TenantLane, _ remaining: inout Int) {
        while !lane.isEmpty, candidate(at: lane.positions[lane.head]) == nil {
            lane.head += 1
            remaining -= 1
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
        // A reserved worker may take some jobs of a shape and not others (backfill).
        let memoize = !capacity.reservedFor.values.contains(job.id) && reservationEnds.isEmpty
        for model in candidate.models where probeSlotFree(model) {
            let shape = Shape(model: model, type: type.lowercased(), count: count, labels: job.spec.labels)
            if memoize, unfitShapes.contains(shape) { continue }
            var best: (key: (Int, Int, Int, Int, Int), position: Int)?
            let previous = job.currentAttempt?.workerID
            let labels = job.spec.labels
            for position in capacity.positions(serving: model)
            where capacity.isOpen(position, to: job.id) || endsBeforeReservation(job, model: model, on: position) {
                let free = capacity.freeCount(position, type: type)
                guard free >= count, capacity.satisfies(position, labels: labels) else { continue }
                let key = (free - count, capacity.isRunning(model, on: position) ? 0 : 1,
                           capacity.tenantJobs(position, job.tenant),
                           previous == capacity.workerIDs[position] ? 1 : 0, position)
                if best.map({ key < $0.key }) ?? true { best = (key, position) }
                // Nothing can beat an exact fit with every tie-breaker at its best.
                if key.0 == 0, key.1 == 0, key.2 == 0, key.3 == 0 { break }
            }
            guard let position = best?.position else {
                if memoize { unfitShapes.insert(shape) }
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
            jobID: job.id, workerID: capacity.workerIDs[position], gpuIndices: gpus,
            model: model == job.spec.model ? "" : model,
            share: .init(tier: candidate.tier, start: tagStart, finish: tagFinish)))
        if !decision.reservations.isEmpty {
            decision.reservations = decision.reservations.filter { $0.value != job.id }
        }
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
                guard capacity.satisfies(position, labels: job.spec.labels),
                      capacity.totalCount(position, type: job.spec.gpuType) >= count else { continue }
                let key = (count - capacity.freeCount(position, type: job.spec.gpuType), position)
                if best.map({ key < $0.key }) ?? true { best = (key, position) }
            }
        }
        if let position = best?.position { hold(position, for: candidate) }
    }

    mutating func hold(_ position: Int, for candidate: Candidate) {
        reservationEnds[position] = estimatedFreeAt(position, count: Int(candidate.job.spec.gpuCount),
                                                    type: candidate.job.spec.gpuType)
        capacity.reserve(position, for: candidate.job.id)
        decision.reservations[capacity.workerIDs[position]] = candidate.job.id
    }
}
