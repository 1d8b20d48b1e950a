import FlotillaProto

/// What a submission would do if applied now. The shell calls
/// `checkSubmission` to refuse bad input before it reaches the log; applying
/// runs the same check, so a refusal is the same whichever place makes it.
public enum SubmissionCheck: Hashable, Sendable {
    /// A new job with this spec (defaults applied).
    case accept(Flotilla_V1_JobSpec)
    /// The same key and tenant already made this job.
    case duplicate(JobID)
    case reject(Rejection)
}

extension CoordinatorState {
    /// The tenant of a job submitted without one (and of a client certificate naming none).
    public static let defaultTenant = "default"
    /// `JobSpec.max_attempts = 0` means the cluster default.
    public static let defaultMaxAttempts: UInt32 = 3
    /// A job's GPUs all sit on one worker; more than this is a mistake, not a job.
    public static let maxGPUsPerJob: UInt32 = 256

    /// `at`: the time breakers are judged at (the command's, when applying).
    public func checkSubmission(_ submitted: Flotilla_V1_JobSpec, at: UInt64) -> SubmissionCheck {
        let spec = withDefaults(submitted)
        if !spec.idempotencyKey.isEmpty,
           let existingID = idempotency[IdempotencyKey(tenant: spec.tenant, key: spec.idempotencyKey)],
           let existing = jobsByID[existingID] {
            var repeated = spec
            // The tenant's default tier may have changed since: a resend is still a resend.
            if submitted.tier == .unspecified { repeated.tier = existing.spec.tier }
            guard repeated == existing.spec else {
                return .reject(Rejection(.alreadyExists,
                    "idempotency key \"\(spec.idempotencyKey)\" of tenant \(spec.tenant) was used for job \(existingID) with a different spec"))
            }
            return .duplicate(existingID)
        }
        if spec.model.isEmpty { return .reject(Rejection(.invalidArgument, "model is required")) }
        if case .UNRECOGNIZED(let value) = spec.tier {
            return .reject(Rejection(.invalidArgument, "tier \(value) is not a tier"))
        }
        if spec.gpuCount > Self.maxGPUsPerJob {
            return .reject(Rejection(.invalidArgument,
                "gpu_count \(spec.gpuCount) is more than \(Self.maxGPUsPerJob): a job's GPUs are all on one worker"))
        }
        if !knownModels.contains(spec.model) {
            return .reject(Rejection(.notFound, "model \(spec.model) is not served by any registered worker"))
        }
        if let quota = tenantsByName[spec.tenant], quota.maxQueuedJobs > 0,
           queuedJobCount(tenant: spec.tenant) >= Int(quota.maxQueuedJobs) {
            return .reject(Rejection(.resourceExhausted,
                "tenant \(spec.tenant) has \(quota.maxQueuedJobs) jobs queued, its max_queued_jobs quota"))
        }
        if let refusal = breakerRefusal(spec, at: at) { return .reject(refusal) }
        return .accept(spec)
    }

    /// PROTOCOL.md §11.4's defaults, applied once at submission so that every
    /// later reader sees the values the job actually runs with.
    func withDefaults(_ submitted: Flotilla_V1_JobSpec) -> Flotilla_V1_JobSpec {
        var spec = submitted
        if spec.tenant.isEmpty { spec.tenant = Self.defaultTenant }
        if spec.gpuCount == 0 { spec.gpuCount = 1 }
        if spec.maxAttempts == 0 { spec.maxAttempts = Self.defaultMaxAttempts }
        if spec.tier == .unspecified {
            let tenantTier = tenantsByName[spec.tenant]?.defaultTier ?? .unspecified
            switch tenantTier {
            case .premium, .standard, .free: spec.tier = tenantTier
            case .unspecified, .UNRECOGNIZED: spec.tier = .standard
            }
        }
        return spec
    }

    mutating func submitJob(_ command: Flotilla_V1_Command.SubmitJob, index: UInt64, at: UInt64,
                            _ outcome: inout CommandOutcome) {
        switch checkSubmission(command.spec, at: at) {
        case .reject(let rejection):
            outcome.rejection = rejection
        case .duplicate(let id):
            outcome.duplicate = true
            outcome.jobID = id
        case .accept(let spec):
            let job = Job(
                id: JobID(submittedAt: index, region: command.region), sequence: index, spec: spec,
                state: .queued, submittedAt: at, updatedAt: at, step: 0, totalSteps: spec.steps,
                attempts: [], latestCheckpoint: nil, error: "", lastProgressAt: at, region: command.region)
            jobsByID[job.id] = job
            queue.insert(job)
            if !spec.idempotencyKey.isEmpty {
                idempotency[IdempotencyKey(tenant: spec.tenant, key: spec.idempotencyKey)] = job.id
            }
            outcome.jobID = job.id
            outcome.note(job.id, "queued", stateChanged: true)
        }
    }

    /// Cancelling a cancelled job changes nothing; a finished one cannot be.
    mutating func cancelJob(_ command: Flotilla_V1_Command.CancelJob, at: UInt64, _ outcome: inout CommandOutcome) {
        let id = JobID(command.jobID)
        outcome.jobID = id
        guard var job = jobsByID[id] else {
            return outcome.reject(.notFound, "no job \(id)")
        }
        switch job.state {
        case .cancelled:
            outcome.duplicate = true
            return
        case .succeeded, .failed:
            return outcome.reject(.failedPrecondition, "job \(id) already \(job.state == .succeeded ? "succeeded" : "failed")")
        case .queued:
            queue.remove(job)
        case .running:
            endLiveAttempt(of: &job, as: .cancelled, at: at, error: "job cancelled", countsAgainstMaxAttempts: false)
            if let attempt = job.currentAttempt {
                outcome.send(attempt.workerID, .stopping(job.id, attempt.token))
            }
        }
        job.state = .cancelled
        job.updatedAt = at
        job.error = command.reason.isEmpty ? "cancelled" : "cancelled: \(command.reason)"
        jobsByID[id] = job
        outcome.note(id, job.error, stateChanged: true)
    }

    mutating func setTenant(_ tenant: Flotilla_V1_TenantQuota, _ outcome: inout CommandOutcome) {
        guard !tenant.tenant.isEmpty else { return outcome.reject(.invalidArgument, "tenant name is required") }
        if case .UNRECOGNIZED(let value) = tenant.defaultTier {
            return outcome.reject(.invalidArgument, "default_tier \(value) is not a tier")
        }
        tenantsByName[tenant.tenant] = tenant
    }
}
