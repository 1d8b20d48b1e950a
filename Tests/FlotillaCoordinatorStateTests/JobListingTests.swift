import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTestSupport
import Testing

/// The index-backed ListJobs gives what a plain filter over every job gives,
/// page after page, for every combination of filters.
@Suite struct JobListingTests {
    static func naive(_ state: CoordinatorState, _ query: JobListQuery) -> [Job] {
        state.jobs.reversed().filter { job in
            (query.states.isEmpty || query.states.contains(job.state))
                && (query.tenant.isEmpty || job.tenant == query.tenant)
                && (query.model.isEmpty || job.spec.model == query.model)
                && (query.worker.isEmpty || job.attempts.contains {
                    $0.workerID.rawValue == query.worker || state.worker($0.workerID)?.name == query.worker
                })
        }
    }

    @Test(arguments: 0..<4)
    func pagesMatchANaiveFilter(seed: UInt64) {
        var workload = RandomWorkload(seed: 7_000 + seed)
        while workload.cluster.entries.count < 600 { _ = workload.step() }
        let state = workload.cluster.state
        let workerKeys = [""] + state.workers.prefix(2).flatMap { [$0.id.rawValue, $0.name] } + ["nobody"]
        let stateSets: [Set<JobState>] = [[], [.queued], [.succeeded, .failed, .cancelled], [.running, .queued]]
        var rng = SplitMix64(seed: seed)
        for states in stateSets {
            for tenant in ["", "acme", "default", "nobody"] {
                for model in ["", "mochi-1", "veo-3"] {
                    for worker in workerKeys {
                        var query = JobListQuery(states: states, tenant: tenant, model: model, worker: worker,
                                                 limit: Int.random(in: 1...7, using: &rng))
                        let expected = Self.naive(state, query).map(\.id)
                        var got: [JobID] = []
                        while true {
                            let page = state.listJobs(query)
                            #expect(page.jobs.count <= query.limit)
                            got += page.jobs.map(\.id)
                            guard let next = page.nextBefore else { break }
                            #expect(page.jobs.count == query.limit)
                            query.before = next
                        }
                        #expect(got == expected, "states \(states) tenant \(tenant) model \(model) worker \(worker)")
                    }
                }
            }
        }
    }
}
