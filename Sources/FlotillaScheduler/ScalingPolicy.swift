import FlotillaCoordinatorState
import FlotillaProto

/// The rules of the scaling policy, strongest first (the order breaks ties
/// between rules that recommend the same change).
public enum ScalingRule: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case queueDepthCritical = "queue_depth_critical"
    case p99LatencyBreach = "p99_latency_breach"
    case queueDepthHigh = "queue_depth_high"
    case gpuUtilizationHigh = "gpu_utilization_high"
    case gpuUtilizationLow = "gpu_utilization_low"

    public var description: String { rawValue }
}

/// Thresholds, durations, changes and cooldowns of the scaling rules. The
/// defaults are the design's "Scaling Policies" table.
public struct ScalingPolicy: Hashable, Sendable {
    /// More than `jobs` queued jobs that have each waited longer than `waitingLongerThanMs`.
    public struct QueueDepthRule: Hashable, Sendable {
        public var jobs: Int
        public var waitingLongerThanMs: UInt64
        public var changePercent: Int32
        public var cooldownMs: UInt64

        public init(jobs: Int, waitingLongerThanMs: UInt64, changePercent: Int32, cooldownMs: UInt64) {
            self.jobs = jobs
            self.waitingLongerThanMs = waitingLongerThanMs
            self.changePercent = changePercent
            self.cooldownMs = cooldownMs
        }
    }

    /// Allocated GPUs of a type above (high) or below (low) `percent` of its
    /// total, in every sample for `forMs`.
    public struct UtilizationRule: Hashable, Sendable {
        public var percent: Int
        public var forMs: UInt64
        public var changePercent: Int32
        public var cooldownMs: UInt64

        public init(percent: Int, forMs: UInt64, changePercent: Int32, cooldownMs: UInt64) {
            self.percent = percent
            self.forMs = forMs
            self.changePercent = changePercent
            self.cooldownMs = cooldownMs
        }
    }

    /// The p99 queue wait above `sloMultiple` × `sloMs`, in every sample for `forMs`.
    public struct LatencyRule: Hashable, Sendable {
        public var sloMs: UInt64
        public var sloMultiple: UInt64
        public var forMs: UInt64
        public var changePercent: Int32
        public var cooldownMs: UInt64

        public init(sloMs: UInt64, sloMultiple: UInt64, forMs: UInt64, changePercent: Int32, cooldownMs: UInt64) {
            self.sloMs = sloMs
            self.sloMultiple = sloMultiple
            self.forMs = forMs
            self.changePercent = changePercent
            self.cooldownMs = cooldownMs
        }

        /// The p99 above which the SLO counts as breached.
        public var breachAboveMs: UInt64 {
            let (product, overflow) = sloMs.multipliedReportingOverflow(by: sloMultiple)
            return overflow ? .max : product
        }
    }

    static let minute: UInt64 = 60_000

    /// >100 jobs waiting >5 min: +10 %, cooldown 5 min.
    public var queueDepthHigh = QueueDepthRule(jobs: 100, waitingLongerThanMs: 5 * minute, changePercent: 10,
                                               cooldownMs: 5 * minute)
    /// >500 jobs waiting >10 min: +25 %, cooldown 2 min.
    public var queueDepthCritical = QueueDepthRule(jobs: 500, waitingLongerThanMs: 10 * minute, changePercent: 25,
                                                   cooldownMs: 2 * minute)
    /// >85 % for 10 min: +10 %, cooldown 5 min.
    public var utilizationHigh = UtilizationRule(percent: 85, forMs: 10 * minute, changePercent: 10,
                                                 cooldownMs: 5 * minute)
    /// <40 % (and nothing queued for the type) for 30 min: -10 %, cooldown 15 min.
    public var utilizationLow = UtilizationRule(percent: 40, forMs: 30 * minute, changePercent: -10,
                                                cooldownMs: 15 * minute)
    /// p99 queue wait >2× the SLO (60 s) for 5 min: +20 %, cooldown 3 min.
    public var p99Latency = LatencyRule(sloMs: minute, sloMultiple: 2, forMs: 5 * minute, changePercent: 20,
                                        cooldownMs: 3 * minute)
    /// Samples further apart than this do not cover the time between them:
    /// a sustained condition starts again, and an advisor not fed for this
    /// long recommends nothing.
    public var maxSampleGapMs: UInt64 = minute

    public init() {}

    public static let `default` = ScalingPolicy()

    public func changePercent(_ rule: ScalingRule) -> Int32 {
        switch rule {
        case .queueDepthCritical: queueDepthCritical.changePercent
        case .p99LatencyBreach: p99Latency.changePercent
        case .queueDepthHigh: queueDepthHigh.changePercent
        case .gpuUtilizationHigh: utilizationHigh.changePercent
        case .gpuUtilizationLow: utilizationLow.changePercent
        }
    }

    public func cooldownMs(_ rule: ScalingRule) -> UInt64 {
        switch rule {
        case .queueDepthCritical: queueDepthCritical.cooldownMs
        case .p99LatencyBreach: p99Latency.cooldownMs
        case .queueDepthHigh: queueDepthHigh.cooldownMs
        case .gpuUtilizationHigh: utilizationHigh.cooldownMs
        case .gpuUtilizationLow: utilizationLow.cooldownMs
        }
    }
}

/// One recommended capacity change for one GPU type.
public struct ScalingRecommendation: Hashable, Sendable {
    /// The type's shown spelling.
    public var gpuType: String
    /// The strongest rule that fires and is not cooling down.
    public var rule: ScalingRule
    public var changePercent: Int32
    /// Human readable: the rule, the figure that fired it, the change.
    public var reason: String
    /// Every rule this recommendation answers: the rules for the type that
    /// fire in the same direction and are not cooling down (`rule` included).
    /// Acknowledging the recommendation starts each one's cooldown.
    public var answers: [ScalingRule]

    public init(gpuType: String, rule: ScalingRule, changePercent: Int32, reason: String, answers: [ScalingRule]) {
        self.gpuType = gpuType
        self.rule = rule
        self.changePercent = changePercent
        self.reason = reason
        self.answers = answers
    }

    public var proto: Flotilla_V1_CapacityRecommendation {
        var proto = Flotilla_V1_CapacityRecommendation()
        proto.gpuType = gpuType
        proto.changePercent = changePercent
        proto.reason = reason
        return proto
    }
}
