import DequeModule
import FlotillaProto

/// The coordinator's whole state: jobs, attempts, checkpoints, workers,
/// drains and tenants. It changes only by `apply`, one log entry at a time,
/// deterministically: no clock (time comes in the command), no I/O, no
/// randomness. Every replica that applies the same log holds an equal value.
public struct CoordinatorState: Hashable, Sendable {
    public internal(set) var lastAppliedIndex: UInt64 = 0
    public internal(set) var lastAppliedTerm: UInt64 = 0
    /// The leader that wrote the latest `TermStarted` entry, its term and when.
    public internal(set) var leader: String = ""
    public internal(set) var leaderTerm: UInt64 = 0
    public internal(set) var leaderSince: UInt64 = 0

    /// The jobs, indexed by state, tenant, model and worker (see `JobTable`).
    var jobsByID = JobTable()
    var queue = JobQueue()
    /// Jobs retention removed, so that asking for one says so (bounded).
    var removedJobs = RemovedJobs()
    var idempotency: [IdempotencyKey: JobID] = [:]
    /// In registration order (see `WorkerTable`).
    var workersByID = WorkerTable()
    var workerIDsByName: [String: WorkerID] = [:]
    /// Derived from the workers (see `knownModels`).
    var servedModels: Set<String> = []
    var tenantsByName: [String: Flotilla_V1_TenantQuota] = [:]
    /// The policy results are judged by; a leader proposes its configuration's.
    public internal(set) var breakerPolicy = BreakerPolicy()
    /// Breakers that are not plain CLOSED with no recent failures.
    var breakersByModel: [String: CircuitBreaker] = [:]
    public internal(set) var fairShare = FairShareClock()
    /// Failover drills, oldest first (the latest `DrillRecords.kept`).
    var drillRecords: [Flotilla_V1_DrillReport] = []

    struct IdempotencyKey: Hashable, Sendable {
        var tenant: String
        var key: String
    }

    public init() {}

    /// Applies the next entry of the log. Total: an invalid or stale command
    /// (an unknown job, a superseded fencing token) is applied as a no-op and
    /// the outcome says why; nothing here traps on input.
    public mutating func apply(_ entry: LogEntryRecord) -> CommandOutcome {
        var outcome = CommandOutcome(index: entry.index)
        guard entry.index > lastAppliedIndex, entry.index - lastAppliedIndex == 1 else {
            // Replaying entries a snapshot already covers is harmless; a gap is the caller's bug.
            if entry.index <= lastAppliedIndex {
                outcome.duplicate = true
                outcome.reject(.failedPrecondition, "entry \(entry.index) is already applied (at \(lastAppliedIndex))")
            } else {
                outcome.reject(.failedPrecondition, "entry \(entry.index) skips entries after \(lastAppliedIndex)")
            }
            return outcome
        }
        lastAppliedIndex = entry.index
        lastAppliedTerm = entry.term
        let at = entry.command.atUnixMs

        switch entry.command.kind {
        case .termStarted(let command):
            leader = command.leader
            leaderTerm = entry.term
            leaderSince = at
        case .submitJob(let command): submitJob(command, index: entry.index, at: at, &outcome)
        case .cancelJob(let command): cancelJob(command, at: at, &outcome)
        case .assign(let command): assignAttempt(command, term: entry.term, at: at, &outcome)
        case .progress(let command): recordProgress(command.report, at: at, &outcome)
        case .checkpoint(let command): recordCheckpoint(command.report, at: at, &outcome)
        case .finish(let command): finishAttempt(command, at: at, &outcome)
        case .requestCheckpoint(let command): requestCheckpoint(command, at: at, &outcome)
        case .preempt(let command): preemptAttempt(command, at: at, &outcome)
        case .registerWorker(let command): registerWorker(command, index: entry.index, at: at, &outcome)
        case .heartbeat(let command): heartbeat(command.heartbeat, at: at, &outcome)
        case .suspect(let command): markSuspect(command, &outcome)
        case .lost(let command): markLost(command, at: at, &outcome)
        case .drain(let command): drainWorker(command, &outcome)
        case .setTenant(let command): setTenant(command.tenant, &outcome)
        case .configureBreakers(let command): breakerPolicy = BreakerPolicy(command.policy)
        case .breakerAction(let command): actOnBreaker(command, at: at, &outcome)
        case .pruneJobs(let command): pruneJobs(command, at: at, &outcome)
        case .drillStarted(let command): startDrill(command.report, index: entry.index, at: at, &outcome)
        case .drillEnded(let command): endDrill(command.report, at: at, &outcome)
        case nil:
            outcome.reject(.invalidArgument, "entry \(entry.index) holds no command this coordinator knows")
        }
        return outcome
    }
}

extension CoordinatorState {
    /// An entry of the replicated log that holds no command (a Raft leader's first entry of
    /// its term, a membership change): it takes its place in the sequence and changes nothing
    /// else, so every replica's `lastAppliedIndex` is the Raft applied index. False (and no
    /// change) for an entry out of sequence.
    @discardableResult
    public mutating func skip(index: UInt64, term: UInt64) -> Bool {
        guard index == lastAppliedIndex + 1 else { return false }
        lastAppliedIndex = index
        lastAppliedTerm = term
        return true
    }
}

// MARK: - Reading the state

extension CoordinatorState {
    public func job(_ id: JobID) -> Job? { jobsByID[id] }

    /// Every job, in submission order.
    public var jobs: [Job] { jobsByID.all }

    public var jobCount: Int { jobsByID.count }

    /// QUEUED jobs, in queue (submission) order.
    public var queuedJobs: [Job] { queue.entries.compactMap { jobsByID[$0.jobID] } }

    /// The queue in order, without the jobs themselves (cheap to walk).
    public var queueEntries: Deque<QueueEntry> { queue.entries }

    /// Jobs with a live attempt, in submission order (found through the
    /// workers' allocations, so the cost does not grow with finished jobs).
    public var runningJobs: [Job] {
        var ids = Set<JobID>()
        for worker in workersByID.values { ids.formUnion(worker.allocations.values) }
        return ids.compactMap { jobsByID[$0] }.sorted { $0.sequence < $1.sequence }
    }

    /// The job an earlier submission with this key and tenant created.
    public func job(idempotencyKey key: String, tenant: String) -> Job? {
        idempotency[IdempotencyKey(tenant: tenant.isEmpty ? Self.defaultTenant : tenant, key: key)]
            .flatMap { jobsByID[$0] }
    }

    public func worker(_ id: WorkerID) -> Worker? { workersByID[id] }
    public func worker(named name: String) -> Worker? { workerIDsByName[name].flatMap { workersByID[$0] } }

    /// A worker by id or, failing that, by name (DrainWorkerRequest.worker).
    public func worker(idOrName: String) -> Worker? {
        workersByID[WorkerID(idOrName)] ?? worker(named: idOrName)
    }

    /// Every worker, in registration order.
    public var workers: [Worker] { workersByID.all }
    public var workerCount: Int { workersByID.count }

    public func tenant(_ name: String) -> Flotilla_V1_TenantQuota? { tenantsByName[name] }
    public var tenants: [Flotilla_V1_TenantQuota] { tenantsByName.keys.sorted().compactMap { tenantsByName[$0] } }

    /// Models that some registered worker (in any state) serves. Kept as
    /// workers register: every submission asks, and there may be thousands of workers.
    public var knownModels: Set<String> { servedModels }

    mutating func refreshKnownModels() {
        servedModels = workersByID.values.reduce(into: Set<String>()) { $0.formUnion($1.models) }
    }

    /// GPUs held by the tenant's live attempts (the `max_gpus` quota).
    public func gpusAllocated(tenant: String) -> Int {
        runningJobs.filter { $0.tenant == tenant }.reduce(0) { $0 + ($1.liveAttempt?.gpuIndices.count ?? 0) }
    }

    public func queuedJobCount(tenant: String) -> Int { queue.countByTenant[tenant] ?? 0 }

    /// Jobs waiting in the queue, of every tier and tenant.
    public var queuedJobCount: Int { queue.count }

    /// Queued jobs whose spec asks for `tier` (before aging).
    public func queuedJobCount(tier: Flotilla_V1_Tier) -> Int { queue.countByTier[tier] ?? 0 }
}
