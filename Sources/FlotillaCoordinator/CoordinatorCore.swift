import FlotillaCoordinatorState
import FlotillaDrills
import FlotillaLog
import FlotillaProto
import FlotillaRaftHost
import FlotillaTransport
import Logging
import SwiftProtobuf

/// The coordinator's single writer: proposes commands to the log and applies
/// them, in log order, to the state machine once they are durable.
///
/// Alone (one coordinator), the log is the durable log: proposals from many
/// requests overlap (the actor is re-entered while a proposal waits for its
/// fsync), so one fsync covers many of them, the log's group commit. In a
/// replicated group (`raft.peers`), proposals go to the Raft node and resolve
/// when their entries commit; every member applies the committed entries
/// (`CoordinatorCore+Replication.swift`). What applying produced (directives,
/// job events) goes to the streams in `CoordinatorCore+Streams.swift`.
actor CoordinatorCore {
    var state: CoordinatorState
    /// Alone: the log proposals are appended to. Replicated: the Raft storage's log (for its counters).
    let log: DurableLog
    /// The term entries are written in: alone, one more than any term in the log,
    /// so fencing tokens issued after a restart are newer than every earlier one;
    /// replicated, the Raft term this coordinator leads (or last led).
    var term: UInt64
    /// The Raft member, in a replicated group; nil alone.
    let replica: RaftReplica?
    /// The member's queue of peers' messages, which connections fill from their event loops.
    nonisolated let raftInbox: RaftInbox?
    /// Replicated: this member leads and its term's first entries applied, so it serves.
    var leading = false
    /// The Ready loop, ticker and inbox reader of a replicated member.
    var replicationTasks: [Task<Void, Never>] = []
    let name: String
    let clock: any WallClock
    let logger: Logger
    let snapshots: SnapshotSchedule
    let metrics: CoordinatorMetrics

    /// Proposed and not yet applied, by index (alone).
    private(set) var proposed: [UInt64: Flotilla_V1_Command] = [:]
    /// Alone, or leading: the state the whole log leads to, which the planner plans from
    /// (see `LogProjection` and `CoordinatorCore+Planning.swift`). Nil on a follower.
    var projection: LogProjection?
    private var outcomes: [UInt64: CommandOutcome] = [:]
    private(set) var nextIndex: UInt64
    private var durableIndex: UInt64
    var snapshotIndex: UInt64
    private var snapshotting = false
    /// Set once the log failed a write: the state on disk is unknown, so no
    /// further proposal is accepted (the process should be restarted).
    var failure: String?
    var leaderSince: UInt64 = 0
    /// Liveness, kept off the log: when each worker last heartbeated (leader clock).
    /// Empty after a restart or an election, when the restart grace covers every worker.
    var heard: [WorkerID: UInt64] = [:]
    /// Heartbeats that changed nothing replicated, so were not logged (for the bench and metrics).
    private(set) var heartbeatsKeptOffTheLog: UInt64 = 0
    private(set) var ready = false
    /// Superseded attempts workers still claimed to run, while a drill watches (see `sawStale`).
    var staleSightings: [JobID: StaleSighting] = [:]
    var watchingStale = false

    /// Rounds for the planner loop: one per tick, and one after any change it plans from.
    let wakeup = PlannerWakeup()

    var directiveStreams: [WorkerID: DirectiveStream] = [:]
    /// Directives of the entries being applied, sent once they all are.
    var outgoing = OutgoingDirectives()
    /// The connection each worker last registered on, while it is open.
    var workerConnections: [WorkerID: UInt64] = [:]
    var watchers: [JobID: [UInt64: AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.Continuation]] = [:]
    var nextWatcherID: UInt64 = 0

    /// Opens the log, restores the latest snapshot and replays the entries after it.
    /// Replicated, it opens the Raft storage instead; committed entries after the
    /// snapshot are applied as the node hands them over.
    init(configuration: CoordinatorConfiguration, clock: any WallClock, metrics: CoordinatorMetrics,
         logger: Logger) throws {
        try Self.refuseSilentSwitch(configuration)
        if configuration.raft.isReplicated {
            let (replica, state) = try Self.openReplica(configuration: configuration, logger: logger)
            self.replica = replica
            self.raftInbox = replica.inbox
            self.log = replica.storage.log
            self.state = state
            self.term = replica.node.term
            self.name = configuration.name
            self.clock = clock
            self.logger = logger
            self.snapshots = SnapshotSchedule(every: configuration.snapshotEvery)
            self.metrics = metrics
            self.nextIndex = 0
            self.durableIndex = 0
            self.snapshotIndex = replica.node.snapshotIndex
            return
        }
        replica = nil
        raftInbox = nil
        let log = try DurableLog.open(
            directory: configuration.dataDirectory + "/log",
            configuration: .init(segmentSize: configuration.segmentSize), logger: logger)
        var state = CoordinatorState()
        if let snapshot = try log.loadSnapshot() {
            state = try CoordinatorState(snapshotBytes: snapshot.data)
        }
        var replayed = 0
        try log.forEachEntry(from: state.lastAppliedIndex + 1) { entry in
            _ = try state.applyChecked(try LogEntryRecord(index: entry.index, term: entry.term, payload: entry.payload))
            replayed += 1
        }
        logger.info("recovered state", metadata: [
            "flotilla.log.snapshot_index": "\(log.snapshotIndex)",
            "flotilla.log.replayed": "\(replayed)",
            "flotilla.log.last_index": "\(log.lastIndex)",
            "flotilla.jobs": "\(state.jobCount)",
            "flotilla.workers": "\(state.workers.count)",
        ])
        self.log = log
        self.state = state
        self.term = max(log.lastTerm, state.leaderTerm) + 1
        self.name = configuration.name
        self.clock = clock
        self.logger = logger
        self.snapshots = SnapshotSchedule(every: configuration.snapshotEvery)
        self.metrics = metrics
        self.nextIndex = log.lastIndex + 1
        self.durableIndex = log.lastIndex
        self.snapshotIndex = log.snapshotIndex
        self.projection = LogProjection(from: state)
    }

    /// Writes this term's first entry, then the configured breaker policy and
    /// tenant quotas where the state differs; from then on the planner may act.
    func start(breakers: BreakerPolicy = BreakerPolicy(), tenants: [Flotilla_V1_TenantQuota] = []) async throws {
        if replica != nil {
            startReplication(breakers: breakers, tenants: tenants)
            ready = true
            return
        }
        try await startTerm(breakers: breakers, tenants: tenants)
        ready = true
    }

    /// A leader's first entries: its term, then the configured breaker policy and tenant
    /// quotas where the state differs, and the end of a drill an earlier leader left running.
    func startTerm(breakers: BreakerPolicy, tenants: [Flotilla_V1_TenantQuota]) async throws {
        let now = clock.nowMs()
        _ = try await propose([.termStarted(leader: name, at: now)])
        var configuration: [Flotilla_V1_Command] = []
        if state.breakerPolicy != breakers { configuration.append(.configureBreakers(breakers, at: now)) }
        for tenant in tenants where state.tenant(tenant.tenant) != tenant {
            configuration.append(.setTenant(tenant, at: now))
        }
        _ = try await propose(configuration)
        // A drill its leader did not finish cannot be watched by this one, except a
        // leader-failover, which the next leader judges (DrillRunner.leaderStarted).
        if var orphan = state.runningDrill, orphan.kind != .leaderFailover {
            orphan.verdict = .aborted
            orphan.reason = "the coordinator running it stopped before it ended (a new term began)"
            orphan.timeline.append("ABORTED: \(orphan.reason)")
            _ = try await propose([.drillEnded(orphan, at: now)])
        }
        leaderSince = now
    }

    /// Makes `commands` durable, applies them, and returns what each did (in
    /// order). Throws UNAVAILABLE when the log cannot be written.
    func propose(_ commands: [Flotilla_V1_Command]) async throws -> [CommandOutcome] {
        if let failure { throw FlotillaError(.unavailable, "the coordinator's log failed (\(failure)); restart it") }
        guard !commands.isEmpty else { return [] }
        if replica != nil { return try await proposeReplicated(commands) }
        let payloads = try commands.map { try LogEntryRecord(index: 0, term: term, command: $0).payload() }
        let first = nextIndex
        nextIndex += UInt64(commands.count)
        for (offset, command) in commands.enumerated() { proposed[first + UInt64(offset)] = command }
        project(commands, first: first, term: term)
        do {
            let last = try await log.append(term: term, payloads: payloads)
            precondition(last == first + UInt64(commands.count) - 1, "log index \(last) differs from the proposal's")
            durableIndex = max(durableIndex, last)
        } catch {
            failure = "\(error)"
            logger.critical("log append failed; refusing further writes", metadata: ["error": "\(error)"])
            throw FlotillaError(.unavailable, "the coordinator's log failed: \(error)")
        }
        applyDurable()
        return (first..<(first + UInt64(commands.count))).map { outcomes.removeValue(forKey: $0)! }
    }

    /// Applies every durable entry not yet applied, in index order.
    private func applyDurable() {
        while state.lastAppliedIndex < durableIndex, let command = proposed.removeValue(forKey: state.lastAppliedIndex + 1) {
            let index = state.lastAppliedIndex + 1
            let outcome = state.apply(LogEntryRecord(index: index, term: term, command: command))
            outcomes[index] = outcome
            deliver(outcome, of: command)
            if applyWakesPlanner, outcome.isAccepted, PlannerWakeup.wakes(for: command) { wakeup.wake() }
        }
        keepProjectionUp()
        sendOutgoingDirectives()
        metrics.applied(lastIndex: state.lastAppliedIndex, syncs: log.syncCount)
        snapshotIfDue()
    }

    func snapshotIfDue() {
        guard !snapshotting,
              snapshots.isDue(lastApplied: state.lastAppliedIndex, lastSnapshot: snapshotIndex,
                              records: state.jobCount + state.workerCount) else { return }
        snapshotting = true
        let snapshot = state
        // Serialized off the actor: with tens of thousands of jobs it takes tens of
        // milliseconds, which every request would otherwise wait out.
        Task.detached { [self] in
            let bytes = Result { try snapshot.snapshotBytes() }
            await self.saveSnapshot(index: snapshot.lastAppliedIndex, term: snapshot.lastAppliedTerm, bytes)
        }
    }

    private func saveSnapshot(index: UInt64, term: UInt64, _ bytes: Result<[UInt8], any Error>) async {
        defer { snapshotting = false }
        do {
            if replica != nil {
                try await compactReplica(index: index, data: try bytes.get())
                return
            }
            try await log.saveSnapshot(index: index, term: term, data: try bytes.get())
            snapshotIndex = index
            logger.info("snapshot saved", metadata: ["flotilla.log.snapshot_index": "\(snapshotIndex)"])
        } catch {
            logger.error("snapshot failed", metadata: ["error": "\(error)"])
        }
    }

    /// Proposes one command and returns its outcome, or throws its rejection.
    func proposeChecked(_ command: Flotilla_V1_Command) async throws -> CommandOutcome {
        let outcome = try await propose([command])[0]
        if let rejection = outcome.rejection, !outcome.duplicate {
            throw rejection.flotillaError
        }
        return outcome
    }

    func now() -> UInt64 { clock.nowMs() }

    /// Reads the state on the actor. Readers must not take a copy of the
    /// state away: a copy alive while `apply` mutates would make every
    /// dictionary of the state copy itself, O(jobs) per command.
    func read<T: Sendable>(_ body: @Sendable (CoordinatorState) -> T) -> T { body(state) }

    /// The planner's commands for the state as it stands. Planned here, not on
    /// a copy held across the proposal: a copy alive while `apply` mutates
    /// would make every dictionary of the state copy itself.
    /// A worker's heartbeat: noted in memory, logged only when it changes replicated
    /// state. One call on the actor for all of it (a coordinator with 10,000 workers
    /// takes 2,000 a second): that the worker is `workerName`'s, the attempts to stop,
    /// what a watching drill should know, and whether an operator drains it.
    func heartbeat(_ request: Flotilla_V1_HeartbeatRequest, from workerName: String) async throws -> Flotilla_V1_HeartbeatResponse {
        let worker = try CoordinatorService.own(state.worker(WorkerID(request.workerID)), id: request.workerID, by: workerName)
        let at = now()
        let effect = state.heartbeatEffect(request)
        if let rejection = effect.rejection { throw FlotillaError(rejection.code, rejection.message) }
        heard[worker.id] = at
        var response = Flotilla_V1_HeartbeatResponse()
        if effect.needsLog {
            response.stop = try await proposeChecked(.heartbeat(request, at: at)).stopAttempts
        } else {
            heartbeatsKeptOffTheLog += 1
            response.stop = effect.stop
        }
        sawStale(response.stop, listed: request.running)
        response.drain = state.worker(worker.id)?.drain?.byOperator ?? false
        return response
    }

    /// When the worker was last heard from: in memory, or as last logged.
    func lastHeard(_ worker: Worker) -> UInt64 { max(worker.lastHeartbeatAt, heard[worker.id] ?? 0) }

    /// Every worker as ListWorkers shows it, with its in-memory last heartbeat.
    func workerInfos() -> [Flotilla_V1_WorkerInfo] {
        state.workers.compactMap { worker in
            guard var info = state.workerInfo(worker.id) else { return nil }
            info.lastHeartbeatUnixMs = lastHeard(worker)
            return info
        }
    }

    func plan(with planner: CoordinatorPlanner) -> [Flotilla_V1_Command] {
        planner.plan(projectedState(), now: now(), leaderSince: leaderSince, heard: heard)
    }

    /// The `PruneJobs` due now under `retention`, if it would remove anything.
    func retentionCommand(_ retention: RetentionPolicy, lastPrunedAt: UInt64?) -> Flotilla_V1_Command? {
        retention.command(for: projectedState(), now: now(), lastPrunedAt: lastPrunedAt)
    }

    /// What a submission would do now (see `CoordinatorState.checkSubmission`),
    /// with the capacity check that needs the registered workers.
    func preflight(_ spec: Flotilla_V1_JobSpec) -> Result<SubmissionCheck, FlotillaError> {
        let check = state.checkSubmission(spec, at: now())
        if case .accept(let accepted) = check,
           let problem = JobSpecValidation.capacityProblem(accepted, workers: state.workers) {
            return .failure(FlotillaError(.invalidArgument, problem))
        }
        return .success(check)
    }

    /// Serving requests: the term has started and the log is healthy. Replicated, a
    /// follower serves too: it answers NOT_LEADER (see `redirect()`).
    var isServing: Bool { ready && failure == nil }

    func close() async {
        await stopReplication()
        wakeup.finish()
        for stream in directiveStreams.values { stream.continuation.finish() }
        directiveStreams.removeAll()
        for streams in watchers.values { for continuation in streams.values { continuation.finish() } }
        watchers.removeAll()
        await log.close()
    }
}


