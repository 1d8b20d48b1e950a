import FlotillaCoordinatorState
import FlotillaDrills
import FlotillaProto

/// What the leader-failover drill needs from the core: the group for the blast radius, and
/// the new leader's view of its term and of the jobs the old leader recorded.
extension CoordinatorCore {
    /// Every member as this leader sees it; nil alone (no group to fail over in).
    func failoverMembers() -> [LeaderFailover.Member]? {
        guard replica != nil else { return nil }
        return coordinatorInfos(address: "").map { LeaderFailover.Member(name: $0.name, voter: $0.voter, reachable: $0.reachable) }
    }

    /// What the leader of `term` sees of the drill `report`; nil once it no longer leads that term.
    func failoverObservation(_ report: Flotilla_V1_DrillReport, term: UInt64) -> LeaderFailover.Observation? {
        guard let replica, leading, replica.termTimes.term == term else { return nil }
        var attempts: [String: UInt32] = [:]
        for tracked in report.jobs {
            if let attempt = state.job(JobID(tracked.jobID))?.currentAttempt { attempts[tracked.jobID] = attempt.number }
        }
        let times = replica.termTimes
        return LeaderFailover.Observation(
            leader: name, term: term, electedAt: times.electedAt, servingAt: times.servingAt,
            firstSubmissionAt: times.firstSubmissionAt, now: now(),
            jobsKept: state.jobCount(throughSequence: report.baseline.lastJobSequence),
            jobsPruned: state.removedJobCount(since: report.startedUnixMs), attempts: attempts,
            jobsWithTwoLiveAttempts: state.jobsWithTwoLiveAttempts, staleSightings: staleSightings.count)
    }

    /// `body` runs each time this member starts serving as leader (at once if it does now).
    func setOnLeading(_ body: @escaping @Sendable (UInt64) -> Void) {
        guard let replica else { return }
        replica.onLeading = body
        if leading { body(replica.termTimes.term) }
    }
}
