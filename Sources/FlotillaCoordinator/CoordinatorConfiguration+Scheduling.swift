import FlotillaConfig
import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler

/// The `scheduler.*`, `breakers.*` and `tenants` keys (see cluster-configs/coordinator.yaml).
extension CoordinatorConfiguration {
    static func schedulerPolicy(_ reader: ConfigReader) throws -> SchedulerPolicy {
        var policy = SchedulerPolicy()
        for (tier, name) in [(Flotilla_V1_Tier.premium, "premium"), (.standard, "standard"), (.free, "free")] {
            let weight = try reader.integer("scheduler.weights.\(name)", default: Int(policy.weight(of: tier)), in: 1...1_000)
            policy.weights[tier] = UInt64(weight)
        }
        policy.agingIntervalMs = try reader.milliseconds("scheduler.aging_interval", default: policy.agingIntervalMs)
        policy.reserveAfterMs = try reader.milliseconds("scheduler.reserve_after", default: policy.reserveAfterMs)
        policy.preemption.enabled = try reader.bool("scheduler.preemption.enabled", default: policy.preemption.enabled)
        policy.preemption.graceMs = UInt32(clamping: try reader.milliseconds(
            "scheduler.preemption.grace", default: UInt64(policy.preemption.graceMs), minimum: 1))
        policy.preemption.windowMs = try reader.milliseconds("scheduler.preemption.window", default: policy.preemption.windowMs)
        let preemptible = try reader.strings("scheduler.preemption.preemptible_tiers", default: ["free", "standard"])
        policy.preemption.preemptibleTiers = Set(try preemptible.map { name in
            guard let tier = tier(named: name), tier != .premium else {
                throw ConfigError(key: "scheduler.preemption.preemptible_tiers", "\"\(name)\" is not free or standard")
            }
            return tier
        })
        policy.retry.baseMs = try reader.milliseconds("scheduler.retry.base", default: policy.retry.baseMs, minimum: 1)
        policy.retry.maxMs = try reader.milliseconds("scheduler.retry.max", default: policy.retry.maxMs, minimum: 1)
        policy.retry.multiplier = UInt64(try reader.integer("scheduler.retry.multiplier", default: 2, in: 1...100))
        policy.retry.jitterPercent = UInt64(try reader.integer("scheduler.retry.jitter_percent", default: 20, in: 0...100))
        return policy
    }

    /// The seeds' breaker: 5 failures in 1 minute, 30 s recovery, 3 half-open probes.
    static func breakerPolicy(_ reader: ConfigReader) throws -> BreakerPolicy {
        let defaults = BreakerPolicy()
        let fallbacks = try reader.stringMap("breakers.fallbacks")
        for (model, next) in fallbacks where model == next {
            throw ConfigError(key: "breakers.fallbacks", "model \(model) falls back to itself")
        }
        return BreakerPolicy(
            failureThreshold: try reader.integer("breakers.failure_threshold", default: defaults.failureThreshold, in: 1...10_000),
            windowMs: try reader.milliseconds("breakers.window", default: defaults.windowMs, minimum: 1),
            recoveryMs: try reader.milliseconds("breakers.recovery", default: defaults.recoveryMs, minimum: 1),
            halfOpenProbes: try reader.integer("breakers.half_open_probes", default: defaults.halfOpenProbes, in: 1...1_000),
            fallbacks: fallbacks)
    }

    static func tenants(_ reader: ConfigReader) throws -> [Flotilla_V1_TenantQuota] {
        try reader.table("tenants") { item in
            var quota = Flotilla_V1_TenantQuota()
            quota.tenant = try item.requiredString("name")
            guard JobSpecValidation.isName(quota.tenant) else {
                throw ConfigError(key: item.fullKey("name"), "\"\(quota.tenant)\" is not a valid tenant name")
            }
            quota.maxGpus = UInt32(try item.integer("max_gpus", default: 0, in: 0...1_000_000))
            quota.maxQueuedJobs = UInt32(try item.integer("max_queued_jobs", default: 0, in: 0...100_000_000))
            quota.homeRegion = try item.string("home_region", default: "")
            let tierName = try item.string("default_tier", default: "")
            if !tierName.isEmpty {
                guard let tier = tier(named: tierName) else {
                    throw ConfigError(key: item.fullKey("default_tier"), "\"\(tierName)\" is not premium, standard or free")
                }
                quota.defaultTier = tier
            }
            return quota
        }
    }

    static func tier(named name: String) -> Flotilla_V1_Tier? {
        switch name.lowercased() {
        case "premium": .premium
        case "standard": .standard
        case "free": .free
        default: nil
        }
    }
}
