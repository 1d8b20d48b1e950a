import FlotillaProto
import SwiftProtobuf

/// A snapshot that does not describe a state `apply` could have produced.
public struct SnapshotError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { "invalid coordinator snapshot: \(message)" }
}

extension CoordinatorState {
    /// The whole state as of `lastAppliedIndex`. Records are in a fixed order
    /// (submission, registration, name), so equal states give equal snapshots.
    public func snapshot() -> Flotilla_V1_StateSnapshot {
        var snapshot = Flotilla_V1_StateSnapshot()
        snapshot.lastAppliedIndex = lastAppliedIndex
        snapshot.lastAppliedTerm = lastAppliedTerm
        snapshot.leader = leader
        snapshot.leaderTerm = leaderTerm
        snapshot.leaderSinceUnixMs = leaderSince
        snapshot.jobs = jobs.map(\.record)
        snapshot.workers = workers.map(\.record)
        snapshot.tenants = tenants
        snapshot.breakerPolicy = breakerPolicy.proto
        snapshot.breakers = breakersByModel.keys.sorted().compactMap { breakersByModel[$0]?.record }
        snapshot.fairShare = fairShare.proto
        snapshot.removedJobs = removedJobs.order.map { removal in
            var record = Flotilla_V1_RemovedJob()
            record.id = removal.id.rawValue
            record.tenant = removal.tenant
            record.removedUnixMs = removal.removedAt
            return record
        }
        snapshot.drills = drillRecords
        return snapshot
    }

    /// The snapshot as a log snapshot file's payload; deterministic bytes.
    public func snapshotBytes() throws -> [UInt8] {
        try snapshot().serializedBytes(options: .deterministic)
    }

    public init(snapshotBytes bytes: [UInt8]) throws {
        try self.init(snapshot: Flotilla_V1_StateSnapshot(serializedBytes: bytes))
    }

    /// Restores a state and rebuilds what is derived from the records (the
    /// queue, the job indexes, idempotency keys, GPU allocations), checking the invariants
    /// `apply` keeps, so a damaged snapshot is refused rather than trusted.
    public init(snapshot: Flotilla_V1_StateSnapshot) throws {
        self.init()
        lastAppliedIndex = snapshot.lastAppliedIndex
        lastAppliedTerm = snapshot.lastAppliedTerm
        leader = snapshot.leader
        leaderTerm = snapshot.leaderTerm
        leaderSince = snapshot.leaderSinceUnixMs

        var previous: UInt64 = 0
        for record in snapshot.workers {
            let worker = try Worker(record)
            guard worker.sequence > previous else { throw SnapshotError("workers out of registration order at \(worker.id)") }
            guard workersByID[worker.id] == nil, workerIDsByName[worker.name] == nil else {
                throw SnapshotError("worker \(worker.id) (\(worker.name)) appears twice")
            }
            previous = worker.sequence
            workersByID[worker.id] = worker
            workerIDsByName[worker.name] = worker.id
        }
        refreshKnownModels()

        previous = 0
        var restored: [Job] = []
        var ids = Set<JobID>()
        restored.reserveCapacity(snapshot.jobs.count)
        for record in snapshot.jobs {
            let job = try Job(record)
            guard job.sequence > previous else { throw SnapshotError("jobs out of submission order at \(job.id)") }
            guard ids.insert(job.id).inserted else { throw SnapshotError("job \(job.id) appears twice") }
            previous = job.sequence
            try restoreDerived(of: job)
            restored.append(job)
        }
        jobsByID = JobTable(restoring: restored)

        for record in snapshot.workers {
            guard let worker = workersByID[WorkerID(record.id)], WorkerState(record.state) == worker.state else {
                throw SnapshotError("worker \(record.id) is \(record.state), which its attempts and drain contradict")
            }
        }
        for tenant in snapshot.tenants {
            guard !tenant.tenant.isEmpty, tenantsByName[tenant.tenant] == nil else {
                throw SnapshotError("tenant \"\(tenant.tenant)\" is unnamed or appears twice")
            }
            tenantsByName[tenant.tenant] = tenant
        }
        breakerPolicy = BreakerPolicy(snapshot.breakerPolicy)
        for record in snapshot.breakers {
            guard !record.model.isEmpty, breakersByModel[record.model] == nil else {
                throw SnapshotError("breaker of model \"\(record.model)\" is unnamed or appears twice")
            }
            breakersByModel[record.model] = CircuitBreaker(record)
        }
        fairShare = FairShareClock(snapshot.fairShare)
        for record in snapshot.removedJobs {
            guard !record.id.isEmpty, jobsByID[JobID(record.id)] == nil else {
                throw SnapshotError("removed job \"\(record.id)\" is unnamed or still present")
            }
        }
        try restoreDrills(snapshot.drills)
        removedJobs.record(snapshot.removedJobs.map {
            RemovedJobs.Removal(id: JobID($0.id), tenant: $0.tenant, removedAt: $0.removedUnixMs)
        })
    }

    private mutating func restoreDerived(of job: Job) throws {
        for (offset, attempt) in job.attempts.enumerated() {
            guard attempt.number == offset + 1 else { throw SnapshotError("job \(job.id) attempts are not numbered from 1") }
            guard !attempt.isLive || offset == job.attempts.count - 1 else {
                throw SnapshotError("job \(job.id) has a live attempt that is not its last")
            }
        }
        guard (job.state == .running) == (job.liveAttempt != nil) else {
            throw SnapshotError("job \(job.id) is \(job.state) with\(job.liveAttempt == nil ? "out" : "") a live attempt")
        }
        if job.state == .queued { queue.insert(job) }
        if !job.spec.idempotencyKey.isEmpty {
            let key = IdempotencyKey(tenant: job.tenant, key: job.spec.idempotencyKey)
            guard idempotency[key] == nil else { throw SnapshotError("idempotency key of job \(job.id) is used twice") }
            idempotency[key] = job.id
        }
        guard let attempt = job.liveAttempt else { return }
        guard var worker = workersByID[attempt.workerID], worker.health != .lost else {
            throw SnapshotError("job \(job.id) runs on \(attempt.workerID), which is unknown or lost")
        }
        let present = Set(worker.gpus.map(\.index))
        for index in attempt.gpuIndices {
            guard present.contains(index), worker.allocations[index] == nil else {
                throw SnapshotError("GPU \(index) of worker \(worker.id) is missing or held twice")
            }
            worker.allocations[index] = job.id
        }
        workersByID[worker.id] = worker
    }
}

// MARK: - Records

extension Job {
    var record: Flotilla_V1_JobRecord {
        var record = Flotilla_V1_JobRecord()
        record.id = id.rawValue
        record.sequence = sequence
        record.spec = spec
        record.state = state.proto
        record.submittedUnixMs = submittedAt
        record.updatedUnixMs = updatedAt
        record.step = step
        record.totalSteps = totalSteps
        record.attempts = attempts.map(\.record)
        if let latestCheckpoint { record.latestCheckpoint = latestCheckpoint }
        record.error = error
        record.lastProgressUnixMs = lastProgressAt
        record.region = region
        return record
    }

    init(_ record: Flotilla_V1_JobRecord) throws {
        guard !record.id.isEmpty, let state = JobState(record.state) else {
            throw SnapshotError("job \"\(record.id)\" has no id or state")
        }
        self.init(
            id: JobID(record.id), sequence: record.sequence, spec: record.spec, state: state,
            submittedAt: record.submittedUnixMs, updatedAt: record.updatedUnixMs, step: record.step,
            totalSteps: record.totalSteps,
            attempts: try record.attempts.map { try Attempt($0, specModel: record.spec.model) },
            latestCheckpoint: record.hasLatestCheckpoint ? record.latestCheckpoint : nil, error: record.error,
            lastProgressAt: record.lastProgressUnixMs, region: record.region)
    }
}

extension Attempt {
    var record: Flotilla_V1_AttemptRecord {
        var record = Flotilla_V1_AttemptRecord()
        record.number = number
        record.token = token.proto
        record.workerID = workerID.rawValue
        record.gpuIndices = gpuIndices
        record.state = state.proto
        record.startedUnixMs = startedAt
        record.endedUnixMs = endedAt
        if let resumeFrom { record.resumeFrom = resumeFrom }
        record.error = error
        record.checkpointReason = checkpointReason?.proto ?? .unspecified
        record.checkpointDeadlineUnixMs = checkpointDeadline
        record.countsAgainstMaxAttempts = countsAgainstMaxAttempts
        record.model = model
        record.probe = probe
        return record
    }

    init(_ record: Flotilla_V1_AttemptRecord, specModel: String) throws {
        guard let state = AttemptState(record.state), record.token.attempt == record.number else {
            throw SnapshotError("attempt \(record.number) has no state or a token of another attempt")
        }
        self.init(
            number: record.number, token: FencingToken(record.token), workerID: WorkerID(record.workerID),
            model: record.model.isEmpty ? specModel : record.model, probe: record.probe, gpuIndices: record.gpuIndices, state: state, startedAt: record.startedUnixMs, endedAt: record.endedUnixMs,
            resumeFrom: record.hasResumeFrom ? record.resumeFrom : nil, error: record.error,
            checkpointReason: CheckpointReason(record.checkpointReason),
            checkpointDeadline: record.checkpointDeadlineUnixMs,
            countsAgainstMaxAttempts: record.countsAgainstMaxAttempts)
    }
}

extension Worker {
    var record: Flotilla_V1_WorkerRecord {
        var record = Flotilla_V1_WorkerRecord()
        record.id = id.rawValue
        record.sequence = sequence
        record.name = name
        record.state = state.proto
        record.draining = drain != nil
        record.drainReason = drain?.reason ?? ""
        record.drainByOperator = drain?.byOperator ?? false
        record.gpus = gpus
        record.models = models
        record.labels = labels
        record.region = region
        record.software = software
        record.address = address
        record.registeredUnixMs = registeredAt
        record.lastHeartbeatUnixMs = lastHeartbeatAt
        record.allowsDrills = allowsDrills
        return record
    }

    /// Allocations start empty: they are rebuilt from the jobs' live attempts.
    init(_ record: Flotilla_V1_WorkerRecord) throws {
        guard !record.id.isEmpty, !record.name.isEmpty, let state = WorkerState(record.state) else {
            throw SnapshotError("worker \"\(record.id)\" has no id, name or state")
        }
        guard Set(record.gpus.map(\.index)).count == record.gpus.count else {
            throw SnapshotError("worker \(record.id) lists a GPU index twice")
        }
        let health: WorkerHealth = switch state {
        case .lost: .lost
        case .suspect: .suspect
        case .ready, .draining, .drained: .alive
        }
        self.init(
            id: WorkerID(record.id), sequence: record.sequence, name: record.name, health: health,
            drain: record.draining ? Drain(reason: record.drainReason, byOperator: record.drainByOperator) : nil,
            gpus: record.gpus, models: record.models, labels: record.labels, region: record.region,
            software: record.software, address: record.address, registeredAt: record.registeredUnixMs,
            lastHeartbeatAt: record.lastHeartbeatUnixMs, allocations: [:])
        allowsDrills = record.allowsDrills
    }
}
