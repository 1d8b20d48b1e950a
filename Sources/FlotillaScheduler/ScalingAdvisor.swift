import FlotillaCoordinatorState
import FlotillaProto

/// Turns a series of `ScalingSignals` samples into capacity recommendations
/// per GPU type (the "Scaling Policies" table). A pure value: time comes in
/// with every call (`at`), never from a clock of its own.
///
/// How the rules read the samples:
/// * Queue depth (high, critical) looks at the latest sample only: the wait
///   is already in the condition. For a GPU type it counts the queued jobs that
///   ask for that type plus the jobs that ask for any type (those could run on
///   any, so each type's capacity would help them); a type counts by its
///   case-insensitive name. More than `jobs` jobs, each waiting strictly longer
///   than the threshold, fire the rule.
/// * Utilisation is allocated/total GPUs of the type on READY and DRAINING
///   workers; a type with no such GPU has no utilisation and fires neither
///   utilisation rule. High: strictly above the percentage. Low: strictly
///   below it and no queued job asks for the type or for any type.
/// * P99 latency compares the p99 queue wait of attempts placed on the type's
///   GPUs in the last 10 minutes (`ScalingSignals.p99QueueWaitMsByGPUType`)
///   with `sloMultiple` × `sloMs`, strictly above.
/// * A sustained condition ("for 10 min") must hold in every observed sample
///   from its first holding sample to the latest one, those samples spanning
///   at least the duration, with no two consecutive samples more than
///   `maxSampleGapMs` apart. The advisor keeps, per type and rule, only when
///   the current unbroken run began, so its memory is bounded by the GPU types
///   of the latest sample and the cooldowns running — no sample history.
/// * An advisor that has not observed anything for `maxSampleGapMs` recommends
///   nothing; a sample earlier than the previous one (the clock stepped back)
///   starts the advisor afresh, cooldowns included.
///
/// Choosing and cooldowns:
/// * Per type, the strongest rule that fires and is not cooling down wins: a
///   scale-up before a scale-down, then the largest change, then the order of
///   `ScalingRule`. While any scale-up rule fires for a type (even one cooling
///   down) no scale-down is recommended for it.
/// * `recommendations(at:)` / `evaluate(at:)` do not change the advisor. The
///   caller that publishes or acts on recommendations calls
///   `acknowledge(_:at:)` (or `advise(at:)`, which does both): each rule the
///   recommendation answers — the winner and the weaker same-direction rules
///   firing with it, which the one change already answers — is then not
///   recommended again for that type until its own cooldown has passed
///   (at `at + cooldown` it may fire again).
public struct ScalingAdvisor: Hashable, Sendable {
    public let policy: ScalingPolicy

    /// The latest sample's time.
    public private(set) var lastObservedAt: UInt64?
    /// By case-insensitive type key.
    private var types: [String: TypeState] = [:]
    /// Type keys in the latest sample's order.
    private var typeOrder: [String] = []
    /// (type key, rule) -> the time its cooldown ends.
    private var cooldowns: [CooldownKey: UInt64] = [:]

    private struct TypeState: Hashable, Sendable {
        var gpuType: String
        var total = 0
        var allocated = 0
        var waitingHigh = 0
        var waitingCritical = 0
        var queued = 0
        var p99Ms: UInt64?
        /// When the current unbroken run of holding samples began; nil: not holding.
        var highSince: UInt64?
        var lowSince: UInt64?
        var breachSince: UInt64?
    }

    private struct CooldownKey: Hashable, Sendable {
        var type: String
        var rule: ScalingRule
    }

    public init(policy: ScalingPolicy = ScalingPolicy()) {
        self.policy = policy
    }

    // MARK: Observing

    /// Takes one sample taken at `now`. Cheap: O(GPU types + demand groups).
    public mutating func observe(_ signals: ScalingSignals, at now: UInt64) {
        if let last = lastObservedAt, now < last { self = ScalingAdvisor(policy: policy) }
        let continuous = lastObservedAt.map { now - $0 <= policy.maxSampleGapMs } ?? false
        let any = signals.demand(forType: ScalingSignals.anyGPUType)
        var next: [String: TypeState] = [:]
        var order: [String] = []
        for usage in signals.gpuTypes {
            let key = ScalingSignals.typeKey(usage.gpuType)
            guard next[key] == nil else { continue }
            let previous = continuous ? types[key] : nil
            let demand = signals.demand(forType: usage.gpuType)
            var state = TypeState(gpuType: usage.gpuType, total: usage.total, allocated: usage.allocated)
            state.queued = (demand?.queued ?? 0) + (any?.queued ?? 0)
            state.waitingHigh = Self.waiting(demand, any, longerThan: policy.queueDepthHigh.waitingLongerThanMs)
            state.waitingCritical = Self.waiting(demand, any, longerThan: policy.queueDepthCritical.waitingLongerThanMs)
            state.p99Ms = signals.p99QueueWaitMs(onType: usage.gpuType)

            let total = UInt64(max(usage.total, 0))
            let allocated = UInt64(max(usage.allocated, 0))
            let high = total > 0 && allocated * 100 > UInt64(max(policy.utilizationHigh.percent, 0)) * total
            let low = total > 0 && allocated * 100 < UInt64(max(policy.utilizationLow.percent, 0)) * total
                && state.queued == 0
            let breach = (state.p99Ms ?? 0) > policy.p99Latency.breachAboveMs
            state.highSince = high ? (previous?.highSince ?? now) : nil
            state.lowSince = low ? (previous?.lowSince ?? now) : nil
            state.breachSince = breach ? (previous?.breachSince ?? now) : nil
            next[key] = state
            order.append(key)
        }
        types = next
        typeOrder = order
        lastObservedAt = now
        cooldowns = cooldowns.filter { $0.value > now }
    }

    private static func waiting(_ demand: ScalingSignals.Demand?, _ any: ScalingSignals.Demand?,
                                longerThan threshold: UInt64) -> Int {
        (demand?.waiting(longerThan: threshold) ?? 0) + (any?.waiting(longerThan: threshold) ?? 0)
    }

    // MARK: Recommending

    /// The recommendations at `now`, at most one per GPU type, in the latest
    /// sample's type order. Does not start cooldowns: see `acknowledge`.
    public func recommendations(at now: UInt64) -> [Flotilla_V1_CapacityRecommendation] {
        evaluate(at: now).map(\.proto)
    }

    /// `recommendations(at:)` with the rules behind them.
    public func evaluate(at now: UInt64) -> [ScalingRecommendation] {
        guard isFresh(at: now) else { return [] }
        return typeOrder.compactMap { key in
            guard let state = types[key] else { return nil }
            let firing = firingRules(state)
            let scaleUp = firing.contains { policy.changePercent($0) > 0 }
            let available = firing.filter { rule in
                if scaleUp, policy.changePercent(rule) <= 0 { return false }
                return !isCooling(rule, key: key, at: now)
            }
            guard let winner = strongest(available) else { return nil }
            let change = policy.changePercent(winner)
            let answers = available.filter { (policy.changePercent($0) > 0) == (change > 0) }
            return ScalingRecommendation(gpuType: state.gpuType, rule: winner, changePercent: change,
                                         reason: reason(winner, state), answers: answers)
        }
    }

    /// Records that these recommendations were made at `now`: each rule they
    /// answer is not recommended again for the type until its cooldown has passed.
    public mutating func acknowledge(_ recommendations: [ScalingRecommendation], at now: UInt64) {
        for recommendation in recommendations {
            let key = ScalingSignals.typeKey(recommendation.gpuType)
            for rule in Set(recommendation.answers + [recommendation.rule]) {
                let ends = now.saturatingAdd(policy.cooldownMs(rule))
                cooldowns[CooldownKey(type: key, rule: rule)] = max(cooldowns[CooldownKey(type: key, rule: rule)] ?? 0, ends)
            }
        }
    }

    /// `evaluate(at:)` then `acknowledge(_:at:)`: the recommendations made now.
    public mutating func advise(at now: UInt64) -> [ScalingRecommendation] {
        let made = evaluate(at: now)
        acknowledge(made, at: now)
        return made
    }

    /// Whether a rule's condition holds for a type at the latest sample,
    /// cooldowns aside (false when the advisor is not fresh at `now`).
    public func fires(_ rule: ScalingRule, gpuType: String, at now: UInt64) -> Bool {
        guard isFresh(at: now), let state = types[ScalingSignals.typeKey(gpuType)] else { return false }
        return firingRules(state).contains(rule)
    }

    /// When the rule's cooldown for a type ends; nil when it is not cooling at `now`.
    public func cooldownEnds(_ rule: ScalingRule, gpuType: String, at now: UInt64) -> UInt64? {
        guard let ends = cooldowns[CooldownKey(type: ScalingSignals.typeKey(gpuType), rule: rule)], ends > now else {
            return nil
        }
        return ends
    }

    private func isFresh(at now: UInt64) -> Bool {
        guard let last = lastObservedAt, now >= last else { return false }
        return now - last <= policy.maxSampleGapMs
    }

    private func isCooling(_ rule: ScalingRule, key: String, at now: UInt64) -> Bool {
        (cooldowns[CooldownKey(type: key, rule: rule)] ?? 0) > now
    }

    /// The rules whose condition holds at the latest sample, in `ScalingRule` order.
    private func firingRules(_ state: TypeState) -> [ScalingRule] {
        guard let last = lastObservedAt else { return [] }
        func sustained(_ since: UInt64?, _ duration: UInt64) -> Bool {
            guard let since else { return false }
            return last.saturatingSubtract(since) >= duration
        }
        return ScalingRule.allCases.filter { rule in
            switch rule {
            case .queueDepthCritical: state.waitingCritical > policy.queueDepthCritical.jobs
            case .p99LatencyBreach: sustained(state.breachSince, policy.p99Latency.forMs)
            case .queueDepthHigh: state.waitingHigh > policy.queueDepthHigh.jobs
            case .gpuUtilizationHigh: sustained(state.highSince, policy.utilizationHigh.forMs)
            case .gpuUtilizationLow: sustained(state.lowSince, policy.utilizationLow.forMs)
            }
        }
    }

    /// A scale-up before a scale-down, then the largest change, then `ScalingRule` order.
    private func strongest(_ rules: [ScalingRule]) -> ScalingRule? {
        let ups = rules.filter { policy.changePercent($0) > 0 }
        if let best = ups.map({ policy.changePercent($0) }).max() {
            return ups.first { policy.changePercent($0) == best }
        }
        guard let best = rules.map({ policy.changePercent($0) }).min() else { return nil }
        return rules.first { policy.changePercent($0) == best }
    }

    private func reason(_ rule: ScalingRule, _ state: TypeState) -> String {
        let change = Self.percent(policy.changePercent(rule))
        let utilization = state.total > 0 ? "\(Self.wholePercent(state.allocated, of: state.total)) %" : "-"
        switch rule {
        case .queueDepthCritical, .queueDepthHigh:
            let queue = rule == .queueDepthCritical ? policy.queueDepthCritical : policy.queueDepthHigh
            let waiting = rule == .queueDepthCritical ? state.waitingCritical : state.waitingHigh
            return "queue > \(queue.jobs) jobs waiting > \(Self.spoken(queue.waitingLongerThanMs))"
                + " (\(waiting) waiting): \(change)"
        case .gpuUtilizationHigh:
            return "GPU utilisation > \(policy.utilizationHigh.percent) % for \(Self.spoken(policy.utilizationHigh.forMs))"
                + " (now \(utilization), \(state.allocated)/\(state.total) GPUs): \(change)"
        case .gpuUtilizationLow:
            return "GPU utilisation < \(policy.utilizationLow.percent) % with nothing queued for"
                + " \(Self.spoken(policy.utilizationLow.forMs)) (now \(utilization), \(state.allocated)/\(state.total) GPUs):"
                + " \(change)"
        case .p99LatencyBreach:
            let latency = policy.p99Latency
            return "p99 queue wait > \(latency.sloMultiple)x SLO \(Self.spoken(latency.sloMs))"
                + " for \(Self.spoken(latency.forMs)) (now \(Self.spoken(state.p99Ms ?? 0))): \(change)"
        }
    }

    /// "+10 %", "-10 %".
    static func percent(_ change: Int32) -> String { change > 0 ? "+\(change) %" : "\(change) %" }

    static func wholePercent(_ part: Int, of whole: Int) -> Int {
        whole > 0 ? (part * 100 + whole / 2) / whole : 0
    }

    /// "5 min", "1 min 30 s", "45 s", "1.5 s", "250 ms", "2 h 5 min".
    static func spoken(_ ms: UInt64) -> String {
        if ms < 1000 { return "\(ms) ms" }
        if ms < 10_000, ms % 1000 != 0 { return "\(ms / 1000).\(ms % 1000 / 100) s" }
        let seconds = ms / 1000
        let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
        var parts: [String] = []
        if hours > 0 { parts.append("\(hours) h") }
        if minutes > 0 { parts.append("\(minutes) min") }
        if rest > 0, hours == 0 { parts.append("\(rest) s") }
        return parts.joined(separator: " ")
    }
}
