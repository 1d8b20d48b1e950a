import DequeModule

/// The jobs by id, with the indexes that let a list page, a summary and
/// retention cost what they return rather than a walk over every job. Every
/// write goes through the subscript, which moves the job between the
/// indexes it leaves and enters; the indexes are canonical (sorted, empty
/// buckets dropped), so a table rebuilt from a snapshot equals one built by
/// applying the log.
struct JobTable: Hashable, Sendable {
    private(set) var byID: [JobID: Job] = [:]
    /// Submission sequences per facet, ascending.
    private(set) var buckets: [JobFacet: SequenceBucket] = [:]
    private(set) var idBySequence: [UInt64: JobID] = [:]
    /// Terminal jobs by when they ended (`updatedAt`), then sequence: retention's order.
    private(set) var terminalByEnd: [EndKey] = []

    struct EndKey: Hashable, Sendable, Comparable {
        var endedAt: UInt64
        var sequence: UInt64
        static func < (a: Self, b: Self) -> Bool { (a.endedAt, a.sequence) < (b.endedAt, b.sequence) }
    }

    init() {}

    /// A table of restored jobs, given in submission order: built in bulk
    /// (appends, one sort of the end times) rather than job by job.
    init(restoring jobs: [Job]) {
        byID.reserveCapacity(jobs.count)
        idBySequence.reserveCapacity(jobs.count)
        for job in jobs {
            byID[job.id] = job
            idBySequence[job.sequence] = job.id
            for facet in Self.facets(of: job) { buckets[facet, default: SequenceBucket()].insert(job.sequence) }
            if job.isTerminal { terminalByEnd.append(EndKey(endedAt: job.updatedAt, sequence: job.sequence)) }
        }
        terminalByEnd.sort()
    }

    var count: Int { byID.count }
    var values: Dictionary<JobID, Job>.Values { byID.values }

    subscript(id: JobID) -> Job? {
        get { byID[id] }
        set {
            let old = byID[id]
            byID[id] = newValue
            reindex(from: old, to: newValue)
        }
    }

    func bucket(_ facet: JobFacet) -> SequenceBucket { buckets[facet] ?? SequenceBucket() }
    func job(sequence: UInt64) -> Job? { idBySequence[sequence].flatMap { byID[$0] } }

    /// Every job in submission order.
    var all: [Job] { bucket(.all).sequences.compactMap(job(sequence:)) }

    private mutating func reindex(from old: Job?, to new: Job?) {
        if let old, let new, old.state == new.state, old.attempts.count == new.attempts.count,
           !old.isTerminal || old.updatedAt == new.updatedAt,
           old.attempts.last?.workerID == new.attempts.last?.workerID { return }
        let before = old.map(Self.facets) ?? []
        let after = new.map(Self.facets) ?? []
        for facet in before.subtracting(after) {
            guard let sequence = old?.sequence else { break }
            buckets[facet]?.remove(sequence)
            if buckets[facet]?.isEmpty == true { buckets[facet] = nil }
        }
        for facet in after.subtracting(before) {
            guard let sequence = new?.sequence else { break }
            buckets[facet, default: SequenceBucket()].insert(sequence)
        }
        if let old, old.isTerminal { Self.remove(EndKey(endedAt: old.updatedAt, sequence: old.sequence), from: &terminalByEnd) }
        if let new, new.isTerminal { Self.insert(EndKey(endedAt: new.updatedAt, sequence: new.sequence), into: &terminalByEnd) }
        if old == nil, let new { idBySequence[new.sequence] = new.id }
        if new == nil, let old { idBySequence[old.sequence] = nil }
    }

    /// Removes many jobs with one pass over each bucket they are in (not one
    /// pass per job), so a large retention batch stays linear.
    mutating func remove(_ ids: [JobID]) {
        var byFacet: [JobFacet: Set<UInt64>] = [:]
        var ended = Set<EndKey>()
        for id in ids {
            guard let job = byID.removeValue(forKey: id) else { continue }
            for facet in Self.facets(of: job) { byFacet[facet, default: []].insert(job.sequence) }
            if job.isTerminal { ended.insert(EndKey(endedAt: job.updatedAt, sequence: job.sequence)) }
            idBySequence[job.sequence] = nil
        }
        for (facet, sequences) in byFacet {
            buckets[facet]?.remove(all: sequences)
            if buckets[facet]?.isEmpty == true { buckets[facet] = nil }
        }
        if !ended.isEmpty { terminalByEnd.removeAll { ended.contains($0) } }
    }

    /// The facets a job is listed under: every state facet, and each worker
    /// any of its attempts ran on.
    static func facets(of job: Job) -> Set<JobFacet> {
        var facets: Set<JobFacet> = [
            .all, .state(job.state), .stateTenant(job.state, job.tenant), .stateModel(job.state, job.spec.model),
            .stateTenantModel(job.state, job.tenant, job.spec.model),
        ]
        for attempt in job.attempts { facets.insert(.worker(attempt.workerID)) }
        return facets
    }

    private static func insert<T: Comparable>(_ element: T, into array: inout [T]) {
        if let last = array.last, last < element { return array.append(element) }
        let position = lowerBound(element, in: array)
        if position < array.count, array[position] == element { return }
        array.insert(element, at: position)
    }

    private static func remove<T: Comparable>(_ element: T, from array: inout [T]) {
        let position = lowerBound(element, in: array)
        if position < array.count, array[position] == element { array.remove(at: position) }
    }

    static func lowerBound<C: RandomAccessCollection>(_ element: C.Element, in array: C) -> Int
    where C.Element: Comparable, C.Index == Int {
        var low = 0
        var high = array.count
        while low < high {
            let middle = (low + high) / 2
            if array[middle] < element { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// A key of the job indexes: what ListJobs filters by, in the combinations
/// it asks for, so a filtered page reads one bucket per state.
enum JobFacet: Hashable, Sendable {
    case all
    case state(JobState)
    case stateTenant(JobState, String)
    case stateModel(JobState, String)
    case stateTenantModel(JobState, String, String)
    /// Jobs any of whose attempts ran on the worker (every state).
    case worker(WorkerID)
}

/// Submission sequences, ascending, without repeats. A deque: jobs leave a state's
/// bucket mostly from the front (the oldest queued job is placed first), and a
/// deque closes a gap by moving the shorter side.
struct SequenceBucket: Hashable, Sendable {
    private(set) var sequences: Deque<UInt64> = []

    var isEmpty: Bool { sequences.isEmpty }
    var count: Int { sequences.count }

    mutating func insert(_ sequence: UInt64) {
        // New submissions come last: the common case appends.
        if let last = sequences.last, last < sequence { return sequences.append(sequence) }
        let position = JobTable.lowerBound(sequence, in: sequences)
        if position < sequences.count, sequences[position] == sequence { return }
        sequences.insert(sequence, at: position)
    }

    mutating func remove(_ sequence: UInt64) {
        let position = JobTable.lowerBound(sequence, in: sequences)
        if position < sequences.count, sequences[position] == sequence { sequences.remove(at: position) }
    }

    mutating func remove(all removed: Set<UInt64>) {
        sequences.removeAll { removed.contains($0) }
    }

    /// Positions of the sequences below `sequence`: `0..<result`.
    func countBelow(_ sequence: UInt64) -> Int { JobTable.lowerBound(sequence, in: sequences) }
}
