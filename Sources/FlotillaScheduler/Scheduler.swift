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

    /// Whether a round could propose anything: a GPU is free, or a queued
    /// premium job may preempt. Else the planner's every tick would walk the
    /// whole queue to decide nothing (reservations are not proposed).
    func mayAct(_ state: CoordinatorState, on workers: [Worker]) -> Bool {
        workers.contains { $0.allocations.count < $0.gpus.count }
            || (policy.preemption.enabled && state.queuedJobCount(tier: .premium) > 0)
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
