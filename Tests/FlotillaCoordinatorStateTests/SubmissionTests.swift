import FlotillaCoordinatorState
import FlotillaProto
import Testing

@Suite struct SubmissionTests {
    @Test func aSubmissionIsQueuedWithAnIdFromItsIndexAndTheDefaultsApplied() {
        var cluster = Cluster()
        _ = cluster.worker("w1")
        var spec = jobSpec(tenant: "", maxAttempts: 0)
        spec.gpuCount = 0
        let outcome = cluster.submit(spec)
        let id = JobID("job-2")
        #expect(outcome.isAccepted && !outcome.duplicate && outcome.jobID == id)
        let job = cluster.state.job(id)!
        #expect(job.state == .queued)
        #expect(job.spec.tenant == "default" && job.spec.gpuCount == 1 && job.spec.maxAttempts == 3)
        #expect(job.spec.tier == .standard)
        #expect(cluster.state.queuedJobs.map(\.id) == [id])
        #expect(outcome.jobChanges == [JobChange(jobID: id, stateChanged: true, message: "queued")])
    }

    @Test func theTenantsDefaultTierAppliesAndTheRegionNamesTheJob() {
        var cluster = Cluster()
        _ = cluster.worker("w1")
        var tenant = Flotilla_V1_TenantQuota()
        tenant.tenant = "acme"
        tenant.defaultTier = .premium
        cluster.apply(.setTenant(tenant, at: cluster.now))
        let outcome = cluster.apply(.submitJob(jobSpec(), region: "us-east", at: cluster.now))
        #expect(outcome.jobID == JobID("job-us-east-3"))
        #expect(cluster.state.job(outcome.jobID!)?.spec.tier == .premium)
    }

    @Test func theSameKeyAndTenantIsTheSameJobReportedAsDuplicate() {
        var cluster = Cluster()
        _ = cluster.worker("w1")
        let first = cluster.submit(jobSpec(key: "k1"))
        let again = cluster.submit(jobSpec(key: "k1"))
        #expect(again.isAccepted && again.duplicate && again.jobID == first.jobID)
        #expect(cluster.state.jobs.count == 1)
        #expect(again.jobChanges.isEmpty)

        // Another tenant's key is another namespace.
        let other = cluster.submit(jobSpec(tenant: "globex", key: "k1"))
        #expect(!other.duplicate && other.jobID != first.jobID)
        #expect(cluster.state.job(idempotencyKey: "k1", tenant: "acme")?.id == first.jobID)
    }

    @Test func theSameKeyWithAnotherSpecIsRefused() {
        var cluster = Cluster()
        _ = cluster.worker("w1")
        cluster.submit(jobSpec(key: "k1"))
        let outcome = cluster.submit(jobSpec(gpus: 2, key: "k1"))
        #expect(outcome.rejection?.code == .alreadyExists)
        #expect(cluster.state.jobs.count == 1)
    }

    @Test func aDuplicateIsStillAnsweredAfterTheJobFinished() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let job = cluster.job(jobSpec(key: "k1"))
        cluster.assign(job, to: worker)
        cluster.finish(job, .succeeded)
        let again = cluster.submit(jobSpec(key: "k1"))
        #expect(again.duplicate && again.jobID == job)
        #expect(cluster.state.job(job)?.state == .succeeded)
    }

    @Test(arguments: [
        (jobSpec(model: ""), Flotilla_V1_ErrorCode.invalidArgument),
        (jobSpec(model: "veo-3"), .notFound),
        (jobSpec(gpus: 100_000), .invalidArgument),
    ])
    func badSubmissionsAreRefusedAndChangeNothing(spec: Flotilla_V1_JobSpec, code: Flotilla_V1_ErrorCode) {
        var cluster = Cluster()
        _ = cluster.worker("w1")
        let check = cluster.state.checkSubmission(spec, at: cluster.now)
        let outcome = cluster.submit(spec)
        #expect(outcome.rejection?.code == code)
        #expect(check == .reject(outcome.rejection!))
        #expect(cluster.state.jobs.isEmpty && cluster.state.queuedJobs.isEmpty)
    }

    @Test func theQueuedJobsQuotaRefusesWithResourceExhausted() {
        var cluster = Cluster()
        _ = cluster.worker("w1")
        var tenant = Flotilla_V1_TenantQuota()
        tenant.tenant = "acme"
        tenant.maxQueuedJobs = 2
        cluster.apply(.setTenant(tenant, at: cluster.now))
        cluster.submit(jobSpec())
        cluster.submit(jobSpec())
        let third = cluster.submit(jobSpec())
        #expect(third.rejection?.code == .resourceExhausted)
        #expect(third.rejection?.message.contains("max_queued_jobs") == true)
        #expect(cluster.submit(jobSpec(tenant: "globex")).isAccepted)
    }

    @Test func cancellingFollowsTheProtocolRules() {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let queued = cluster.job()
        let running = cluster.job()
        let done = cluster.job()
        cluster.assign(running, to: worker)

        #expect(cluster.apply(.cancelJob("job-999", at: cluster.now)).rejection?.code == .notFound)

        #expect(cluster.apply(.cancelJob(queued, reason: "user", at: cluster.now)).isAccepted)
        #expect(cluster.state.job(queued)?.state == .cancelled)
        #expect(cluster.state.job(queued)?.error == "cancelled: user")
        #expect(cluster.state.queuedJobs.map(\.id) == [done])

        let again = cluster.apply(.cancelJob(queued, at: cluster.now))
        #expect(again.isAccepted && again.duplicate)

        let token = cluster.token(running)
        let stop = cluster.apply(.cancelJob(running, at: cluster.now))
        #expect(stop.directives.map(\.workerID) == [worker])
        #expect(stop.directives.first?.directive.stop.token == token.proto)
        #expect(cluster.state.job(running)?.currentAttempt?.state == .cancelled)
        #expect(cluster.state.worker(worker)?.gpusAllocated == 0)
        // The worker confirming the stop is a repeat, accepted.
        #expect(cluster.finish(running, token: token, .cancelled).duplicate)

        cluster.assign(done, to: worker)
        cluster.finish(done, .succeeded)
        #expect(cluster.apply(.cancelJob(done, at: cluster.now)).rejection?.code == .failedPrecondition)
        #expect(cluster.state.job(done)?.state == .succeeded)
    }
}
