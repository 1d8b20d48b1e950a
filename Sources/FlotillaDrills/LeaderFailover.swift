import FlotillaCoordinatorState
import FlotillaProto

/// The leader-failover drill (PROTOCOL.md §14.8), as pure functions: the plan the leader
/// records before it is killed (or hands over), and the verdict the next leader reaches.
///
/// The drill cannot be watched by the member it takes away, so it is split in two. The
/// leader checks the blast radius, records `DrillStarted` with what the verdict needs
/// (the newest job's sequence, the running attempts) and then dies or
/// transfers. Whoever leads next finds the drill running in the state it applied, measures
/// its own election, first commit and first acknowledged submission against the injection,
/// waits out the grace it gives workers (one heartbeat timeout), and judges: no acknowledged
/// job lost, none with two live attempts, no running job restarted, elected within the
/// objective. Offsets compare two coordinators' wall clocks, so they carry their skew.
public enum LeaderFailover {
    /// Objectives: a kill is noticed through the closed connection or the election timeout
    /// (1 s); a transfer is one round trip and an election without pre-vote (300 ms).
    public static let killObjectiveMs: UInt64 = 1_000
    public static let transferObjectiveMs: UInt64 = 300
    /// The killed leader answers the request before it dies; the kill follows the commit of
    /// `DrillStarted` by this much, and offsets count from the kill.
    public static let killDelayMs: UInt64 = 20
    /// Running jobs whose attempts are tracked: the record stays small on a large cluster.
    public static let trackedJobsLimit = 1_000
    /// After the grace, how long the new leader waits for a first submission to measure.
    public static let submissionWaitMs: UInt64 = 5_000

    /// One member of the group as the leader sees it.
    public struct Member: Sendable, Hashable {
        public var name: String
        public var voter: Bool
        public var reachable: Bool

        public init(name: String, voter: Bool, reachable: Bool) {
            self.name = name
            self.voter = voter
            self.reachable = reachable
        }
    }

    /// The `DrillStarted` report for `request` on `leader`, or why it must not run.
    public static func plan(_ request: Flotilla_V1_DrillRequest, leader: String, members: [Member],
                            state: CoordinatorState, health: HealthPolicy) throws(DrillPlanError) -> Flotilla_V1_DrillReport {
        guard let profile = DrillProfile.of(.leaderFailover) else { throw .invalid("no leader-failover profile") }
        guard request.target.isEmpty || request.target == leader else {
            throw .invalid("leader-failover takes the leader away, which is \(leader); leave the target empty or name it")
        }
        let minimumTimeout = health.heartbeatTimeoutMs + submissionWaitMs + 10_000
        let timeout = request.timeoutMs == 0 ? max(DrillProfile.defaultTimeoutMs, minimumTimeout) : request.timeoutMs
        guard timeout <= DrillProfile.maxTimeoutMs else { throw .invalid("timeout_ms \(timeout) is over the 1 h limit") }
        guard timeout >= health.heartbeatTimeoutMs + 1_000 else {
            throw .invalid("timeout_ms \(timeout) must outlast the heartbeat timeout (\(health.heartbeatTimeoutMs) ms) the new leader gives workers")
        }
        let radius = blastRadius(leader: leader, members: members)
        if radius.isUnsafe && !request.force {
            throw .refused(radius.unsafe.joined(separator: "; "), radius)
        }

        var report = Flotilla_V1_DrillReport()
        report.kind = .leaderFailover
        report.mode = request.mode
        report.target = leader
        report.hypothesis = profile.hypothesis
        report.objectiveMs = request.objectiveMs != 0 ? request.objectiveMs
            : (request.mode == .transfer ? transferObjectiveMs : killObjectiveMs)
        report.blastRadius = radius.lines
        report.timeoutMs = timeout
        report.forced = request.force && radius.isUnsafe
        report.baseline = Flotilla_V1_DrillBaseline(state)
        report.baseline.lastJobSequence = state.lastJobSequence
        report.baseline.jobsTotal = UInt32(clamping: state.jobCount)
        report.jobs = state.runningJobs.prefix(trackedJobsLimit).compactMap { job in
            // Only attempts their worker reported running: one assigned a moment before the
            // kill may never have reached it, and is rightly placed again.
            guard let attempt = job.liveAttempt, attempt.state != .assigned else { return nil }
            var tracked = Flotilla_V1_DrillJobRecovery()
            tracked.jobID = job.id.rawValue
            tracked.workerBefore = attempt.workerID.rawValue
            tracked.attemptBefore = attempt.number
            return tracked
        }
        return report
    }

    /// Taking the leader away must leave a majority of voters that can hear each other.
    static func blastRadius(leader: String, members: [Member]) -> BlastRadius {
        var radius = BlastRadius()
        let voters = members.filter(\.voter)
        let quorum = voters.count / 2 + 1
        let remaining = voters.filter { $0.name != leader && $0.reachable }
        radius.findings.append("\(voters.count) voters; without \(leader), \(remaining.count) reachable (\(remaining.map(\.name).joined(separator: ", "))); a majority is \(quorum)")
        if voters.count < 2 {
            radius.unsafe.append("a group of one voter has no member to fail over to")
        } else if remaining.count < quorum {
            radius.unsafe.append("without \(leader) only \(remaining.count) of \(voters.count) voters are reachable, fewer than the \(quorum) a leader needs: the region would stop")
        }
        return radius
    }

    /// What the new leader sees, in unix milliseconds of its own clock.
    public struct Observation: Sendable, Hashable {
        public var leader: String
        public var term: UInt64
        public var electedAt: UInt64
        public var servingAt: UInt64
        public var firstSubmissionAt: UInt64?
        public var now: UInt64
        /// Jobs submitted through the baseline's sequence that the state still holds.
        public var jobsKept: Int
        /// Jobs retention removed since the drill started (not lost: expired).
        public var jobsPruned: Int
        /// The tracked jobs' current attempt numbers; a job absent here is gone.
        public var attempts: [String: UInt32]
        public var jobsWithTwoLiveAttempts: Int
        /// Workers seen still executing an attempt the state stopped.
        public var staleSightings: Int

        public init(leader: String, term: UInt64, electedAt: UInt64, servingAt: UInt64, firstSubmissionAt: UInt64?,
                    now: UInt64, jobsKept: Int, jobsPruned: Int, attempts: [String: UInt32],
                    jobsWithTwoLiveAttempts: Int, staleSightings: Int) {
            self.leader = leader
            self.term = term
            self.electedAt = electedAt
            self.servingAt = servingAt
            self.firstSubmissionAt = firstSubmissionAt
            self.now = now
            self.jobsKept = jobsKept
            self.jobsPruned = jobsPruned
            self.attempts = attempts
            self.jobsWithTwoLiveAttempts = jobsWithTwoLiveAttempts
            self.staleSightings = staleSightings
        }
    }

    /// When the fault happened, by the old leader's clock.
    public static func injectedAt(_ report: Flotilla_V1_DrillReport) -> UInt64 {
        report.startedUnixMs + (report.mode == .kill ? killDelayMs : 0)
    }

    /// The new leader has watched long enough: past the grace it gives workers (a reschedule
    /// would have happened by then) and past a first submission, or the wait for one; or the
    /// drill's deadline passed.
    public static func isDue(_ report: Flotilla_V1_DrillReport, _ seen: Observation, health: HealthPolicy) -> Bool {
        if seen.now >= report.startedUnixMs + report.timeoutMs { return true }
        let graceEnds = seen.servingAt + health.heartbeatTimeoutMs + 1_000
        guard seen.now >= graceEnds else { return false }
        return seen.firstSubmissionAt != nil || seen.now >= graceEnds + submissionWaitMs
    }

    /// The finished report.
    public static func judge(_ started: Flotilla_V1_DrillReport, _ seen: Observation) -> Flotilla_V1_DrillReport {
        var report = started
        let injected = injectedAt(started)
        let offset = { (time: UInt64) in time > injected ? time - injected : 0 }
        report.newLeader = seen.leader
        report.newTerm = seen.term
        report.electedMs = offset(seen.electedAt)
        report.firstCommitMs = offset(seen.servingAt)
        report.firstSubmissionMs = seen.firstSubmissionAt.map(offset) ?? 0
        report.detectionMs = report.electedMs
        report.recoveryMs = report.firstCommitMs

        let baseline = Int(started.baseline.jobsTotal)
        report.jobsLost = UInt32(clamping: max(0, baseline - seen.jobsKept - seen.jobsPruned))
        report.jobsRanTwice = UInt32(clamping: seen.jobsWithTwoLiveAttempts + seen.staleSightings)
        var restarted: [Flotilla_V1_DrillJobRecovery] = []
        for var job in started.jobs {
            guard let now = seen.attempts[job.jobID] else { continue }  // ended and pruned: not restarted
            job.attemptAfter = now
            job.recovered = true
            if now != job.attemptBefore { restarted.append(job) }
        }
        report.jobsRestarted = UInt32(clamping: restarted.count)
        report.jobsMoved = report.jobsRestarted
        report.jobs = restarted
        report.recovered = seen.servingAt > 0

        let how = started.mode == .transfer ? "asked to hand leadership over" : "killed (SIGKILL)"
        report.events = [
            event(0, "leader \(started.target) \(how)"),
            event(report.electedMs, "\(seen.leader) elected leader of term \(seen.term)"),
            event(report.firstCommitMs, "term \(seen.term)'s first entry committed: \(seen.leader) serves"),
        ]
        if let first = seen.firstSubmissionAt {
            report.events.append(event(offset(first), "first submission acknowledged by \(seen.leader)"))
        }
        report.events.append(event(offset(seen.now), "checked: \(started.jobs.count) running jobs tracked, \(restarted.count) restarted"))
        report.timeline = report.events.map { "\(DrillClock.offset(ms: $0.atMs)) \($0.text)" }

        var problems: [String] = []
        if seen.now >= started.startedUnixMs + started.timeoutMs && seen.servingAt == 0 {
            report.verdict = .aborted
            report.reason = "no leader served within the drill's deadline (\(DrillClock.text(ms: started.timeoutMs)))"
            return report
        }
        if report.jobsLost > 0 { problems.append("\(report.jobsLost) acknowledged jobs lost") }
        if report.jobsRanTwice > 0 { problems.append("\(report.jobsRanTwice) jobs ran twice") }
        if report.jobsRestarted > 0 { problems.append("\(report.jobsRestarted) running jobs restarted") }
        if report.electedMs > started.objectiveMs {
            problems.append("a new leader after \(DrillClock.text(ms: report.electedMs)), over the \(DrillClock.text(ms: started.objectiveMs)) objective")
        }
        if problems.isEmpty {
            report.verdict = .pass
            let submission = seen.firstSubmissionAt == nil ? "no submission came to measure"
                : "first submission acknowledged after \(DrillClock.text(ms: report.firstSubmissionMs))"
            report.reason = "\(seen.leader) led after \(DrillClock.text(ms: report.electedMs)) (objective \(DrillClock.text(ms: started.objectiveMs))) and served after \(DrillClock.text(ms: report.firstCommitMs)); \(submission); no job lost or run twice, none of \(started.jobs.count) running jobs restarted"
        } else {
            report.verdict = .fail
            report.reason = problems.joined(separator: "; ")
        }
        return report
    }

    private static func event(_ atMs: UInt64, _ text: String) -> Flotilla_V1_DrillEvent {
        var event = Flotilla_V1_DrillEvent()
        event.atMs = Int64(clamping: atMs)
        event.text = text
        return event
    }
}
