import DequeModule
import FlotillaProto

/// What the scheduler reads of a queued job before it needs the job itself: enough
/// to put it in its tier and tenant's lane, and to tell whether it waited too long.
/// A queued job's attempts do not change while it waits, so `queuedSince` (the
/// job's, when it was queued) holds until it leaves the queue.
public struct QueueEntry: Hashable, Sendable {
    public var sequence: UInt64
    public var jobID: JobID
    public var tenant: String
    /// The spec's tier, before aging.
    public var tier: Flotilla_V1_Tier
    public var submittedAt: UInt64
    public var queuedSince: UInt64
}

/// The QUEUED jobs in submission order. A requeued job (lost worker, retry)
/// goes back to its original place rather than to the back: it was not the
/// job's fault, and it keeps FIFO fair. A deque: placement takes jobs from
/// the front, which in an array moved every entry behind them (with 10,000
/// queued, half a megabyte per assignment, on every replica).
struct JobQueue: Hashable, Sendable {
    private(set) var entries: Deque<Entry> = []
    /// Queued jobs per tenant, for the `max_queued_jobs` quota.
    private(set) var countByTenant: [String: Int] = [:]
    /// Queued jobs per spec tier: whether a round may preempt with no GPU free.
    private(set) var countByTier: [Flotilla_V1_Tier: Int] = [:]

    typealias Entry = QueueEntry

    var count: Int { entries.count }
    var jobIDs: [JobID] { entries.map(\.jobID) }

    mutating func insert(_ job: Job) {
        let position = firstPosition(notBefore: job.sequence)
        if position < entries.count, entries[position].sequence == job.sequence { return }
        entries.insert(Entry(sequence: job.sequence, jobID: job.id, tenant: job.tenant, tier: job.spec.tier,
                             submittedAt: job.submittedAt, queuedSince: job.queuedSince), at: position)
        countByTenant[job.tenant, default: 0] += 1
        countByTier[job.spec.tier, default: 0] += 1
    }

    mutating func remove(_ job: Job) {
        let position = firstPosition(notBefore: job.sequence)
        guard position < entries.count, entries[position].sequence == job.sequence else { return }
        let entry = entries.remove(at: position)
        countByTenant[entry.tenant, default: 1] -= 1
        if countByTenant[entry.tenant] == 0 { countByTenant[entry.tenant] = nil }
        countByTier[entry.tier, default: 1] -= 1
        if countByTier[entry.tier] == 0 { countByTier[entry.tier] = nil }
    }

    private func firstPosition(notBefore sequence: UInt64) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].sequence < sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
