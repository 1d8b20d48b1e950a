import FlotillaCoordinatorState
import FlotillaProto
@testable import FlotillaScheduler
import Testing

@Suite struct QuotaTests {
    func quota(_ tenant: String, gpus: UInt32 = 0, queued: UInt32 = 0) -> Flotilla_V1_Command {
        var quota = Flotilla_V1_TenantQuota()
        quota.tenant = tenant
        quota.maxGpus = gpus
        quota.maxQueuedJobs = queued
        return .setTenant(quota, at: 0)
    }

    @Test func aSubmissionOverTheQueueQuotaIsRefusedNamingIt() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1")
        cluster.apply(quota("acme", queued: 2))
        #expect(cluster.submit().rejection == nil)
        #expect(cluster.submit().rejection == nil)
        let refused = cluster.submit().rejection
        #expect(refused?.code == .resourceExhausted)
        #expect(refused?.message.contains("max_queued_jobs") == true)
        // Another tenant is not affected.
        #expect(cluster.submit(tenant: "other").rejection == nil)
    }

    @Test func workOverTheGPUQuotaWaits() {
        var cluster = SchedulingCluster()
        _ = cluster.worker("w1", gpus: 8)
        cluster.apply(quota("acme", gpus: 3))
        let jobs = (0..<3).map { _ in cluster.job(gpus: 2) }
        let first = cluster.round()
        #expect(first.placements.map(\.jobID) == [jobs[0]])
        cluster.finish(jobs[0], .succeeded)
        #expect(cluster.round().placements.map(\.jobID) == [jobs[1]])
    }
}
