/// A ListJobs question (PROTOCOL.md §11.4): jobs matching every filter
/// given, newest submission first, submitted before `before`.
public struct JobListQuery: Hashable, Sendable {
    /// Empty: every state.
    public var states: Set<JobState>
    /// Empty: every tenant.
    public var tenant: String
    /// The spec's model; empty: every model.
    public var model: String
    /// A worker id or name some attempt ran on; empty: any (or none).
    public var worker: String
    /// Only jobs with a smaller sequence (the previous page's last); max: from the newest.
    public var before: UInt64
    public var limit: Int

    public init(states: Set<JobState> = [], tenant: String = "", model: String = "", worker: String = "",
                before: UInt64 = .max, limit: Int = 100) {
        self.states = states
        self.tenant = tenant
        self.model = model
        self.worker = worker
        self.before = before
        self.limit = limit
    }
}

/// One page of a listing.
public struct JobPage: Hashable, Sendable {
    public var jobs: [Job]
    /// The `before` of the next page: set only when a further match exists, so
    /// a client never gets an empty last page that hints at other tenants' jobs.
    public var nextBefore: UInt64?
}

extension CoordinatorState {
    public func jobCount(in state: JobState) -> Int { jobsByID.bucket(.state(state)).count }

    /// Reads one index bucket per state asked for (merged newest first), or
    /// the worker's bucket: O(page + log n) when only states, tenant and model
    /// filter. A worker filter walks that worker's jobs, filtering the rest.
    public func listJobs(_ query: JobListQuery) -> JobPage {
        let states = query.states.isEmpty ? Set(JobState.allCases) : query.states
        var sources: [SequenceBucket]
        var residual = false
        if !query.worker.isEmpty {
            var ids: Set<WorkerID> = [WorkerID(query.worker)]
            if let named = workerIDsByName[query.worker] { ids.insert(named) }
            sources = ids.map { jobsByID.bucket(.worker($0)) }
            residual = true
        } else {
            sources = states.map { state in
                switch (query.tenant.isEmpty, query.model.isEmpty) {
                case (true, true): jobsByID.bucket(.state(state))
                case (false, true): jobsByID.bucket(.stateTenant(state, query.tenant))
                case (true, false): jobsByID.bucket(.stateModel(state, query.model))
                case (false, false): jobsByID.bucket(.stateTenantModel(state, query.tenant, query.model))
                }
            }
        }
        var cursors = sources.map { $0.countBelow(query.before) }
        var page = JobPage(jobs: [], nextBefore: nil)
        var lastEmitted = UInt64.max
        while true {
            // The newest remaining sequence over the sources.
            var chosen = -1
            for (source, cursor) in cursors.enumerated() where cursor > 0 {
                if chosen < 0 || sources[source].sequences[cursor - 1] > sources[chosen].sequences[cursors[chosen] - 1] {
                    chosen = source
                }
            }
            guard chosen >= 0 else { break }
            cursors[chosen] -= 1
            let sequence = sources[chosen].sequences[cursors[chosen]]
            guard sequence != lastEmitted, let job = jobsByID.job(sequence: sequence) else { continue }
            lastEmitted = sequence
            if residual, !Self.matches(job, query, states: states) { continue }
            if page.jobs.count == query.limit {
                page.nextBefore = page.jobs.last?.sequence
                break
            }
            page.jobs.append(job)
        }
        return page
    }

    private static func matches(_ job: Job, _ query: JobListQuery, states: Set<JobState>) -> Bool {
        states.contains(job.state) && (query.tenant.isEmpty || job.tenant == query.tenant)
            && (query.model.isEmpty || job.spec.model == query.model)
    }
}
