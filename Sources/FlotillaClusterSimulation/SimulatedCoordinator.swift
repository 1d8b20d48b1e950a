import FlotillaCoordinatorState
import FlotillaProto
import FlotillaRaft

/// One coordinator: a Raft node, what it has stored (all that survives a crash), its own
/// `CoordinatorState`, and the leader's shell as `CoordinatorCore` runs it: a term starts with
/// a `TermStarted` entry, only then does it serve; requests resolve when their entries apply
/// in the term they were proposed in; the planner runs while it leads; workers' liveness stays
/// in memory; stepping down fails what is pending and ends every directive stream. The
/// planner plans from the projection of the leader's log and does not wait for its last
/// commands to commit; the projection is checked against the committed state whenever both
/// stand at the same entry.
struct SimulatedCoordinator {
    /// A proposal waiting for its entry: the call to answer, or the shell's own.
    enum Waiting {
        case call(Call)
        case termStart
        case planner
    }

    /// What handling a Ready or a call asks the simulation to carry out.
    struct Effects {
        var messages: [Message] = []
        var replies: [Reply] = []
        /// On workers' directive streams, in order.
        var streamItems: [StreamDelivery] = []
        /// Jobs as an entry left them: index, job, state, live attempts (for the invariants).
        var jobsTouched: [(index: UInt64, job: JobID, state: JobState, liveAttempts: Int)] = []
        var snapshotInstalled = false
        var leadership: Leadership?
    }

    let id: NodeID
    let options: RaftOptions
    let bootstrap: Membership
    let planner: CoordinatorPlanner
    var node: RaftNode
    var storage = StoredState()
    var state = CoordinatorState()
    /// The term's first entry applied: the shell serves.
    var leading = false
    var leaderSince: UInt64 = 0
    var heard: [WorkerID: UInt64] = [:]
    var waiting: [UInt64: (term: UInt64, what: Waiting)] = [:]
    /// Workers subscribed to directives here: name → the stream (its registration's call id).
    var streams: [String: Int] = [:]
    /// While leading: the state the whole log leads to (`LogProjection`).
    var projection: LogProjection?
    /// See `ClusterSimulationOptions.projectionFault`.
    var projectionFault = false
    var termStarting = false

    init(options: RaftOptions, bootstrap: Membership, planner: CoordinatorPlanner) {
        id = options.id
        self.options = options
        self.bootstrap = bootstrap
        self.planner = planner
        node = RaftNode(options: options, bootstrap: bootstrap)
    }

    /// A crash and restart: memory is gone, the node and state come back from storage.
    mutating func restart() throws {
        node = RaftNode(options: options, stored: storage, bootstrap: bootstrap)
        state = try storage.snapshot.map { try CoordinatorState(snapshotBytes: $0.data) } ?? CoordinatorState()
        leading = false
        heard = [:]
        waiting = [:]
        streams = [:]
        projection = nil
        termStarting = false
    }

    // MARK: - Requests

    mutating func handle(_ call: Call, nowMs: UInt64, _ effects: inout Effects) {
        guard leading else { return effects.replies.append(reply(call, .notLeader(hint: node.leader))) }
        switch call.request {
        case .submit(let spec):
            propose(.submitJob(spec, at: nowMs), for: call, &effects)
        case .register(let registration):
            propose(.registerWorker(registration, at: nowMs), for: call, &effects)
        case .heartbeat(let heartbeat):
            let workerID = WorkerID(heartbeat.workerID)
            let effect = state.heartbeatEffect(heartbeat)
            if let rejection = effect.rejection { return effects.replies.append(reply(call, .rejected(rejection))) }
            heard[workerID] = nowMs
            if effect.needsLog {
                propose(.heartbeat(heartbeat, at: nowMs), for: call, &effects)
            } else {
                effects.replies.append(reply(call, .heartbeatAcknowledged(stop: effect.stop)))
            }
        case .finish(let result):
            propose(.finish(result, at: nowMs), for: call, &effects)
        }
    }

    private mutating func propose(_ command: Flotilla_V1_Command, for call: Call, _ effects: inout Effects) {
        guard let placed = try? node.propose(Self.payload(command)) else {
            return effects.replies.append(reply(call, .notLeader(hint: node.leader)))
        }
        waiting[placed.index] = (placed.term, .call(call))
        project([command], first: placed.index, term: placed.term)
    }

    /// Projects commands just appended; entries the node appended itself are read back from its log.
    private mutating func project(_ commands: [Flotilla_V1_Command], first: UInt64, term: UInt64) {
        guard projection != nil else { return }
        let node = node
        var inStep = projection?.catchUp(through: first - 1) { index in
            node.entry(at: index).map { LogProjection.LoggedEntry(index: index, term: $0.term, command: $0.command) }
        } ?? false
        for (offset, command) in commands.enumerated() where inStep {
            let index = first + UInt64(offset)
            if projectionFault, index % 7 == 0 {
                inStep = projection?.appendWithoutCommand(index: index, term: term) == true
            } else {
                inStep = projection?.append(LogEntryRecord(index: index, term: term, command: command)) != nil
            }
        }
        if !inStep { projection = nil }
    }

    func reply(_ call: Call, _ answer: Answer) -> Reply {
        Reply(callID: call.id, to: call.from, from: id, answer: answer)
    }

    static func payload(_ command: Flotilla_V1_Command) -> [UInt8] {
        // Encoding a command built here cannot fail; a failure is the simulation's own bug.
        try! LogEntryRecord(index: 0, term: 0, command: command).payload()
    }

    /// The leader's planner, from the projection of its log: its earlier commands need not
    /// have committed.
    mutating func plan(nowMs: UInt64) {
        guard leading else { return }
        let commands = planner.plan(projection?.state ?? state, now: nowMs, leaderSince: leaderSince, heard: heard)
        guard !commands.isEmpty, let placed = try? node.propose(batch: commands.map(Self.payload)) else { return }
        let last = placed.first + UInt64(commands.count) - 1
        for index in placed.first...last { waiting[index] = (placed.term, .planner) }
        project(commands, first: placed.first, term: placed.term)
    }

    // MARK: - The Ready loop

    /// Stores, sends, applies and advances one Ready (the contract's order; storage is
    /// synchronous here, so nothing needs to wait for it).
    mutating func handleReady(nowMs: UInt64, check: (Ready) throws(SimulationFailureBox) -> Void) throws(SimulationFailureBox) -> Effects {
        var effects = Effects()
        let ready = node.ready()
        try check(ready)
        if let snapshot = ready.snapshot {
            storage.snapshot = snapshot
            storage.entries = []
        }
        if let first = ready.entries.first {
            storage.entries.removeAll { $0.index >= first.index }
            storage.entries.append(contentsOf: ready.entries)
        }
        if let hardState = ready.hardState { storage.hardState = hardState }
        effects.messages = ready.messages
        if let snapshot = ready.snapshot {
            do {
                state = try CoordinatorState(snapshotBytes: snapshot.data)
            } catch {
                throw SimulationFailureBox("\(id) cannot read the leader's snapshot at \(snapshot.index): \(error)")
            }
            effects.snapshotInstalled = true
            projection = nil
            for (index, wait) in waiting where index <= snapshot.index {
                answerLost(index, wait.what, &effects)
            }
        }
        for entry in ready.committedEntries where entry.index > state.lastAppliedIndex {
            try apply(entry, nowMs: nowMs, &effects)
        }
        try checkProjection()
        if let leadership = ready.leadership {
            effects.leadership = leadership
            leadershipChanged(leadership, nowMs: nowMs, &effects)
        }
        node.advance(ready)
        return effects
    }

    /// What stepped messages committed of the stored log, applied at once as the coordinator
    /// does between Readies (`RaftNode.takeCommittedEntries`).
    mutating func applyCommittedNow(nowMs: UInt64) throws(SimulationFailureBox) -> (entries: [Entry], effects: Effects) {
        var effects = Effects()
        let entries = node.takeCommittedEntries()
        for entry in entries where entry.index > state.lastAppliedIndex {
            try apply(entry, nowMs: nowMs, &effects)
        }
        try checkProjection()
        return (entries, effects)
    }

    private mutating func apply(_ entry: Entry, nowMs: UInt64, _ effects: inout Effects) throws(SimulationFailureBox) {
        var outcome: CommandOutcome?
        if case .command(let bytes) = entry.payload {
            guard let record = try? LogEntryRecord(index: entry.index, term: entry.term, payload: bytes) else {
                throw SimulationFailureBox("\(id) cannot decode committed entry \(entry.index)")
            }
            let applied = state.apply(record)
            guard state.lastAppliedIndex == entry.index else {
                throw SimulationFailureBox("\(id) could not apply entry \(entry.index): \(applied.rejection.map { "\($0)" } ?? "")")
            }
            if leading {
                for directive in applied.directives {
                    if let name = state.worker(directive.workerID)?.name, let session = streams[name] {
                        effects.streamItems.append(StreamDelivery(worker: name, session: session, item: .directive(directive.directive)))
                    }
                }
            }
            for change in applied.jobChanges {
                if let job = state.job(change.jobID) {
                    effects.jobsTouched.append((entry.index, job.id, job.state, job.attempts.count(where: \.isLive)))
                }
            }
            if case .termStarted? = record.command.kind, record.command.termStarted.leader == id,
               node.role == .leader, entry.term == node.term {
                leading = true
                termStarting = false
                leaderSince = nowMs
                projection = LogProjection(from: state)
            }
            outcome = applied
        } else {
            state.skip(index: entry.index, term: entry.term)
        }
        guard let wait = waiting.removeValue(forKey: entry.index) else { return }
        guard wait.term == entry.term, let outcome else { return answerLost(entry.index, wait.what, &effects) }
        guard case .call(let call) = wait.what else { return }
        let answer = answer(for: call.request, outcome)
        // A registered worker subscribes here: its stream starts with the answer.
        if case .registered = answer, case .worker(let name) = call.from, leading {
            if let earlier = streams[name] { effects.streamItems.append(StreamDelivery(worker: name, session: earlier, item: .ended)) }
            streams[name] = call.id
            effects.streamItems.append(StreamDelivery(worker: name, session: call.id, item: .registered(reply(call, answer))))
        } else {
            effects.replies.append(reply(call, answer))
        }
    }

    private func answer(for request: Request, _ outcome: CommandOutcome) -> Answer {
        if let rejection = outcome.rejection {
            if case .finish = request { return .reportAcknowledged(outcome.reportAck) }
            return .rejected(rejection)
        }
        switch request {
        case .submit: return .submitted(jobID: outcome.jobID!, index: outcome.index)
        case .register: return .registered(workerID: outcome.workerID!, stop: outcome.stopAttempts)
        case .heartbeat: return .heartbeatAcknowledged(stop: outcome.stopAttempts)
        case .finish: return .reportAcknowledged(outcome.reportAck)
        }
    }

    /// The entry a proposal waited for went to another leader's entry (or a snapshot).
    private mutating func answerLost(_ index: UInt64, _ what: Waiting, _ effects: inout Effects) {
        waiting[index] = nil
        switch what {
        case .call(let call): effects.replies.append(reply(call, .notLeader(hint: node.leader)))
        case .planner: break
        case .termStart: termStarting = false
        }
    }

    private mutating func leadershipChanged(_ leadership: Leadership, nowMs: UInt64, _ effects: inout Effects) {
        if leadership.role == .leader {
            guard !termStarting, !leading else { return }
            heard = [:]
            guard let placed = try? node.propose(Self.payload(.termStarted(leader: id, at: nowMs))) else { return }
            waiting[placed.index] = (placed.term, .termStart)
            termStarting = true
        } else {
            stepDown(&effects)
        }
    }

    /// Not the leader any more: pending requests fail with NOT_LEADER, streams end.
    mutating func stepDown(_ effects: inout Effects) {
        leading = false
        termStarting = false
        projection = nil
        for (index, wait) in waiting.sorted(by: { $0.key < $1.key }) { answerLost(index, wait.what, &effects) }
        endStreams(&effects)
    }

    mutating func endStreams(_ effects: inout Effects) {
        for (name, session) in streams.sorted(by: { $0.key < $1.key }) {
            effects.streamItems.append(StreamDelivery(worker: name, session: session, item: .ended))
        }
        streams = [:]
    }

    /// For a failing run's report.
    var summary: String {
        "\(id) \(node.role.rawValue) of term \(node.term), commit \(node.commitIndex), last \(node.lastIndex), raft applied \(node.status.applied), applied \(state.lastAppliedIndex),"
            + (leading ? ", leading" : "") + (termStarting ? ", starting its term" : "")
            + (projection.map { ", projected through \($0.lastIndex)" } ?? "") + ", \(waiting.count) proposals waiting, streams \(streams.keys.sorted())"
            + (node.role == .leader ? ", progress " + node.progress.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.state) match \($0.value.match) next \($0.value.next) inflight \($0.value.inflight.count) probeSent \($0.value.probeSent)" }.joined(separator: ", ") : "")
    }

    /// A leader's projection holds every entry it appended, so it is never behind the
    /// committed state, and where both stand at the same entry they are the same state.
    private func checkProjection() throws(SimulationFailureBox) {
        guard leading, let projection else { return }
        if projection.isBehind(state) {
            throw SimulationFailureBox("\(id)'s projection stopped at \(projection.lastIndex), behind the applied \(state.lastAppliedIndex)")
        }
        if projection.lastIndex == state.lastAppliedIndex, projection.state != state {
            throw SimulationFailureBox("\(id)'s projection of the log through \(state.lastAppliedIndex) differs from the committed state")
        }
    }

    // MARK: - Snapshots

    /// Saves the state at the applied index as the node's snapshot and drops the entries it covers.
    mutating func compact() throws(SimulationFailureBox) {
        let index = state.lastAppliedIndex
        guard index > node.snapshotIndex, index <= node.commitIndex else { return }
        let data: [UInt8]
        do { data = try state.snapshotBytes() } catch { throw SimulationFailureBox("\(id) cannot snapshot: \(error)") }
        node.compact(through: index, data: data)
        storage.snapshot = node.latestSnapshot
        storage.entries.removeAll { $0.index <= node.latestSnapshot.index }
    }
}

/// A broken invariant found inside a coordinator; the simulation adds the seed and step.
struct SimulationFailureBox: Error {
    var what: String
    init(_ what: String) { self.what = what }
}
