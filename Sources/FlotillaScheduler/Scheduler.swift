import FlotillaCoordinatorState
import FlotillaProto

/// What one scheduling round decided.
public struct SchedulingDecision: Hashable, Sendable {
    public var placements: [Placement] = []
    public var preemptions: [Preemption] = []
    /// Workers kept for one job (it waited too long, or victims are making
    /// room for it): nothing else starts there this round.
    public var reservations: [WorkerID: JobID] = [:]
}

/// A running job told to checkpoint and make room for a premium one.
public struct Preemption: Hashable, Sendable {
    public var victim: JobID
    public var token: FencingToken
    public var workerID: WorkerID
    public var beneficiary: JobID
}

/// The scheduling policy: priority tiers with weighted fair share and aging,
/// fair share between tenants, quotas, gang placement with best-fit bin
/// packing, reservations against starvation, preemption, retry backoff and
/// breaker admission (with fallback models). A pure value: it reads the state
/// and the time it is given and returns decisions; the planner proposes them.
public struct Scheduler: PlacementPolicy {
    public var policy: SchedulerPolicy

    public init(policy: SchedulerPolicy = SchedulerPolicy()) {
        self.policy = policy
    }

    public func place(_ state: CoordinatorState, on workers: [Worker], now: UInt64) -> [Flotilla_V1_Command] {
        guard mayAct(state, on: workers) else { return [] }
        return commands(for: decide(state, on: workers, now: now), now: now)
    }

    /// Whether a round could propose anything: a job is queued, and a GPU is free or a queued
    /// premium job may preempt (premium below its weighted share, as the round
    /// judges it). Else the planner's every tick would walk the whole queue to
    /// decide nothing (reservations are not proposed). Costs the running jobs.
    func mayAct(_ state: CoordinatorState, on workers: [Worker]) -> Bool {
        // Nothing queued, nothing to place (a round would still size up every worker).
        guard state.queuedJobCount > 0 else { return false }
        if workers.contains(where: { $0.allocations.count < $0.gpus.count }) { return true }
        guard policy.preemption.enabled, state.queuedJobCount(tier: .premium) > 0 else { return false }
        let total = workers.reduce(0) { $0 + $1.gpus.count }
        let premium = state.runningJobs.reduce(0) { held, job in
            held + (job.spec.tier == .premium ? job.liveAttempt?.gpuIndices.count ?? 0 : 0)
        }
        let weights = [Flotilla_V1_Tier.premium, .standard, .free].reduce(0) { $0 + policy.weight(of: $1) }
        return UInt64(premium) * weights < UInt64(total) * policy.weight(of: .premium)
    }

    /// The log commands that carry out `decision`, stamped with `now`.
    public func commands(for decision: SchedulingDecision, now: UInt64) -> [Flotilla_V1_Command] {
        decision.placements.map { .assign($0, at: now) }
            + decision.preemptions.map {
                .requestCheckpoint($0.victim, token: $0.token, reason: .preemption,
                                   graceMs: policy.preemption.graceMs, at: now)
            }
    }

    public func decide(_ state: CoordinatorState, on workers: [Worker], now: UInt64) -> SchedulingDecision {
        var round = SchedulingRound(policy: policy, state: state, workers: workers, now: now)
        round.run()
        return round.decision
    }
}
