import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The coordinator's autoscaling signals: samples the state (at most once a
/// second, from the planner loop), feeds a `ScalingAdvisor`, publishes the
/// gauges, logs each recommendation when it is made, and answers the cluster
/// status with the recommendations in force.
///
/// A recommendation is in force from when it is made until its rule's
/// cooldown ends, while its rule still fires; a newer one for the same GPU
/// type replaces it.
final class CoordinatorScaling: Sendable {
    /// Measuring more often than this is skipped.
    static let sampleEveryMs: UInt64 = 1000

    private let metrics: CoordinatorMetrics?
    private let logger: Logger?
    private let box: NIOLockedValueBox<Sampled>

    private struct Sampled {
        var advisor: ScalingAdvisor
        var lastSampleAt: UInt64?
        /// By case-insensitive GPU type: the latest recommendation made and when.
        var made: [String: (recommendation: ScalingRecommendation, at: UInt64)] = [:]
        /// The walk over the jobs, kept while the state is unchanged: an idle
        /// coordinator with a deep queue measures without walking it again.
        var profile: ScalingSignals.Profile?
    }

    init(policy: ScalingPolicy = ScalingPolicy(), metrics: CoordinatorMetrics? = nil, logger: Logger? = nil) {
        self.metrics = metrics
        self.logger = logger
        self.box = NIOLockedValueBox(Sampled(advisor: ScalingAdvisor(policy: policy)))
    }

    var policy: ScalingPolicy { box.withLockedValue { $0.advisor.policy } }

    /// Measures the state and advises, unless the last sample is less than
    /// `sampleEveryMs` old (then it returns at once). Call it every planner tick.
    func sample(_ state: CoordinatorState, now: UInt64) {
        let due = box.withLockedValue { sampled -> Bool in
            if let last = sampled.lastSampleAt, now >= last, now - last < Self.sampleEveryMs { return false }
            sampled.lastSampleAt = now
            return true
        }
        guard due else { return }
        record(signals(of: state, at: now), at: now)
    }

    /// The signals of `state` at `now`, from the kept profile when the state
    /// has not changed since it was built.
    func signals(of state: CoordinatorState, at now: UInt64) -> ScalingSignals {
        let kept = box.withLockedValue { $0.profile }
        if let kept, kept.appliedIndex == state.lastAppliedIndex, now >= kept.builtAt {
            return kept.signals(at: now)
        }
        let profile = ScalingSignals.Profile(state, now: now)
        box.withLockedValue { $0.profile = profile }
        return profile.signals(at: now)
    }

    /// Feeds one measured sample (what `sample` does once it has measured).
    func record(_ signals: ScalingSignals, at now: UInt64) {
        let (made, inForce) = box.withLockedValue { sampled in
            sampled.advisor.observe(signals, at: now)
            let made = sampled.advisor.advise(at: now)
            for recommendation in made {
                sampled.made[recommendation.gpuType.lowercased()] = (recommendation, now)
            }
            return (made, Self.inForce(sampled, at: now))
        }
        for recommendation in made {
            logger?.notice("capacity change recommended", metadata: [
                "flotilla.gpu_type": "\(recommendation.gpuType)",
                "flotilla.change_percent": "\(recommendation.changePercent)",
                "flotilla.rule": "\(recommendation.rule)",
                "flotilla.reason": "\(recommendation.reason)",
            ])
        }
        var percentByType: [String: Int32] = [:]
        for usage in signals.gpuTypes { percentByType[usage.gpuType] = 0 }
        for recommendation in inForce { percentByType[recommendation.gpuType] = recommendation.changePercent }
        metrics?.recordScaling(signals, recommendedPercent: percentByType)
    }

    /// The recommendations in force at `now`, by GPU type.
    func recommendations(at now: UInt64) -> [ScalingRecommendation] {
        box.withLockedValue { Self.inForce($0, at: now) }
    }

    /// Fills the status's scaling fields: the signals measured now, and
    /// `capacity` and `recommendations` from the advisor.
    func fill(_ response: inout Flotilla_V1_ClusterStatusResponse, signals: ScalingSignals, now: UInt64) {
        signals.apply(to: &response)
        let inForce = recommendations(at: now)
        response.capacity = inForce.map(\.proto)
        response.recommendations = inForce.map { "\($0.gpuType): \($0.reason)" }
    }

    private static func inForce(_ sampled: Sampled, at now: UInt64) -> [ScalingRecommendation] {
        let advisor = sampled.advisor
        return sampled.made.values
            .filter { made in
                let rule = made.recommendation.rule
                return now >= made.at && now - made.at < advisor.policy.cooldownMs(rule)
                    && advisor.fires(rule, gpuType: made.recommendation.gpuType, at: now)
            }
            .map(\.recommendation)
            .sorted { $0.gpuType < $1.gpuType }
    }
}

extension CoordinatorCore {
    /// Samples the scaling signals of the state as it stands (cheap unless a
    /// second has passed since the last sample). For the planner loop.
    func sampleScaling(_ scaling: CoordinatorScaling) {
        scaling.sample(state, now: now())
    }
}
