import FlotillaProto

/// The human forms of tenants: the `tenants` table and the quota `tenants set` prints.
enum TenantText {
    static func table(_ tenants: [Flotilla_V1_TenantUsage]) -> String {
        guard !tenants.isEmpty else { return "no tenants" }
        var table = Table("TENANT", "TIER", "GPUS", "QUEUED", "HOME-REGION")
        for usage in tenants {
            let quota = usage.quota
            table.append([
                quota.tenant, quota.defaultTier.name,
                "\(usage.gpusAllocated)/" + limit(quota.maxGpus),
                "\(usage.jobsQueued)/" + limit(quota.maxQueuedJobs),
                quota.homeRegion.isEmpty ? "-" : quota.homeRegion,
            ])
        }
        return table.text
    }

    static func quota(_ quota: Flotilla_V1_TenantQuota) -> String {
        var fields = Fields()
        fields.append("Tenant", quota.tenant)
        fields.append("Default tier", quota.defaultTier.name)
        fields.append("Max GPUs", limit(quota.maxGpus))
        fields.append("Max queued jobs", limit(quota.maxQueuedJobs))
        fields.append("Home region", quota.homeRegion.isEmpty ? "-" : quota.homeRegion)
        return fields.text
    }

    /// A quota limit: 0 is no limit.
    static func limit(_ value: UInt32) -> String {
        value == 0 ? "unlimited" : "\(value)"
    }
}
