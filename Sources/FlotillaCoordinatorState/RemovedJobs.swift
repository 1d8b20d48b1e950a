/// The jobs retention removed most recently, so that asking for one says it
/// was removed rather than that it never existed. Bounded: the newest
/// `capacity` removals, oldest forgotten first. Job ids are minted from log
/// indexes and never reused, so a watermark cannot stand in: jobs end (and
/// are removed) in another order than they were submitted, and most indexes
/// below a watermark were never jobs at all.
struct RemovedJobs: Hashable, Sendable {
    /// About 40 bytes each: a few megabytes at most.
    static let capacity = 100_000

    struct Removal: Hashable, Sendable {
        var id: JobID
        var tenant: String
        var removedAt: UInt64
    }

    /// Removal order, oldest first.
    private(set) var order: [Removal] = []
    private var byID: [JobID: Removal] = [:]

    subscript(id: JobID) -> Removal? { byID[id] }

    mutating func record(_ removals: [Removal]) {
        for removal in removals {
            order.append(removal)
            byID[removal.id] = removal
        }
        let excess = order.count - Self.capacity
        guard excess > 0 else { return }
        for removal in order.prefix(excess) { byID[removal.id] = nil }
        order.removeFirst(excess)
    }
}
