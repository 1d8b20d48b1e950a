import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import Testing

/// The leader plans from the projection of its whole log: what it appended and has not yet
/// committed counts, and what the commit later applies is what was projected.
@Suite struct LogProjectionTests {
    let planner = CoordinatorPlanner(placement: Scheduler())

    /// A one-GPU worker running `first`, with `second` queued behind it, all committed.
    func busyWorker() -> (Cluster, WorkerID, first: JobID, second: JobID) {
        var cluster = Cluster()
        let worker = cluster.worker("w1")
        let first = cluster.job()
        let second = cluster.job()
        cluster.plan()
        return (cluster, worker, first, second)
    }

    func assignments(_ commands: [Flotilla_V1_Command]) -> [String] {
        commands.compactMap { if case .assign(let assign) = $0.kind { assign.jobID } else { nil } }
    }

    /// The worker's report that `job`'s live attempt succeeded.
    func succeeded(_ job: JobID, _ cluster: Cluster) -> Flotilla_V1_Command {
        var result = Flotilla_V1_AttemptResult()
        result.jobID = job.rawValue
        result.token = cluster.token(job).proto
        result.state = .succeeded
        return .finish(result, at: cluster.now)
    }

    /// The next entry of `cluster`'s log after what `projection` holds.
    func record(_ command: Flotilla_V1_Command, after projection: LogProjection, term: UInt64 = 1) -> LogEntryRecord {
        LogEntryRecord(index: projection.lastIndex + 1, term: term, command: command)
    }

    @Test func aResultNotYetCommittedFreesItsGPUForTheNextJob() {
        var (cluster, worker, first, second) = busyWorker()
        var projection = LogProjection(from: cluster.state)
        let finish = succeeded(first, cluster)
        let projected = projection.append(record(finish, after: projection))
        #expect(projected?.isAccepted == true)

        // The committed state still has the GPU busy; the projection has it free.
        #expect(assignments(planner.plan(cluster.state, now: cluster.now, leaderSince: 0)).isEmpty)
        let planned = planner.plan(projection.state, now: cluster.now, leaderSince: 0)
        #expect(assignments(planned) == [second.rawValue])
        for command in planned { _ = projection.append(record(command, after: projection)) }

        // Committed in the same order, the log reaches exactly the projected state.
        #expect(cluster.apply(finish).isAccepted)
        for command in planned { #expect(cluster.apply(command).isAccepted) }
        #expect(cluster.state == projection.state)
        #expect(cluster.state.job(second)?.liveAttempt?.workerID == worker)
        #expect(!projection.isBehind(cluster.state))
    }

    @Test func theNextRoundSeesTheLastRoundsAssignmentsBeforeTheyCommit() {
        var cluster = Cluster()
        _ = cluster.worker("w1", gpus: 2)
        let jobs = (0..<3).map { _ in cluster.job() }
        var projection = LogProjection(from: cluster.state)
        let round1 = planner.plan(projection.state, now: cluster.now, leaderSince: 0)
        #expect(assignments(round1) == jobs.prefix(2).map(\.rawValue))
        for command in round1 { _ = projection.append(record(command, after: projection)) }
        // Planned from the committed state, the second round would place the same two jobs again.
        #expect(assignments(planner.plan(cluster.state, now: cluster.now, leaderSince: 0)) == assignments(round1))
        #expect(assignments(planner.plan(projection.state, now: cluster.now, leaderSince: 0)).isEmpty)
    }

    /// Why a wrong projection is harmless: applying re-checks what the planner relied on, so an
    /// assignment planned from a result that never committed is refused, not run twice.
    @Test func anAssignmentPlannedFromAResultThatNeverCommittedIsRefused() {
        var (cluster, _, first, second) = busyWorker()
        var projection = LogProjection(from: cluster.state)
        _ = projection.append(record(succeeded(first, cluster), after: projection))
        let planned = planner.plan(projection.state, now: cluster.now, leaderSince: 0)
        #expect(assignments(planned) == [second.rawValue])
        let outcome = cluster.apply(planned[0])
        #expect(!outcome.isAccepted)
        #expect(cluster.state.job(second)?.state == .queued)
        #expect(cluster.state.job(first)?.liveAttempt != nil)
    }

    @Test func catchingUpReadsTheLogAndStopsAtAGapOrAnEntryOutOfStep() {
        var (cluster, _, _, _) = busyWorker()
        let base = cluster.state.lastAppliedIndex
        var projection = LogProjection(from: cluster.state)
        let submit = Flotilla_V1_Command.submitJob(jobSpec(), at: cluster.now)
        let log: [UInt64: LogProjection.LoggedEntry] = [
            base + 1: .noCommand(term: 2),
            base + 2: .command(LogEntryRecord(index: base + 2, term: 2, command: submit)),
        ]
        let caughtUp = projection.catchUp(through: base + 2) { log[$0] }
        #expect(caughtUp)
        #expect(projection.lastIndex == base + 2)
        #expect(projection.state.queuedJobs.count == 2)
        // Nothing at the next index: the projection cannot go on.
        let pastTheEnd = projection.catchUp(through: base + 3) { log[$0] }
        #expect(!pastTheEnd)
        #expect(projection.lastIndex == base + 2)
        // An entry that does not follow the last one projected changes nothing.
        let outOfStep = projection.append(LogEntryRecord(index: base + 5, term: 2, command: submit))
        let skippedOutOfStep = projection.appendWithoutCommand(index: base + 5, term: 2)
        #expect(outOfStep == nil && !skippedOutOfStep)
        #expect(projection.lastIndex == base + 2)
        // The committed state, given entries the projection never saw, is ahead of it.
        cluster.apply(submit)
        cluster.apply(submit)
        cluster.apply(submit)
        #expect(projection.isBehind(cluster.state))
    }
}
