import FlotillaCoordinatorState
import FlotillaProto
import FlotillaRaft
import FlotillaRaftSimulation
import FlotillaRandom
import FlotillaScheduler

/// A seeded, replayable run of a whole replicated region: 3 or 5 coordinators (Raft node, log,
/// `CoordinatorState`, planner with the real scheduler), workers and a client, over a network
/// that drops, delays, duplicates and reorders, with coordinators crashing (losing what they
/// had not stored), partitions coming and going, and workers cut off from every coordinator. Raft's invariants and the jobs' are checked
/// after every step; then everything heals, and every acknowledged job must succeed and every
/// replica agree within a bound.
public struct ClusterSimulation {
    struct Submission {
        var key: String
        var spec: Flotilla_V1_JobSpec
        var call: SimulatedWorker.Outstanding?
        var target: NodeID
        var sends = 0
        var acknowledged = false
        var retryAt = 0
    }

    public let options: ClusterSimulationOptions
    var random: SplitMix64
    let ids: [NodeID]
    var coordinators: [NodeID: SimulatedCoordinator] = [:]
    var workers: [SimulatedWorker] = []
    var submissions: [Submission] = []
    var crashedUntil: [NodeID: Int] = [:]
    /// Workers cut off from every coordinator, until the step named.
    var workerCutUntil: [String: Int] = [:]
    /// Directive streams a cut killed: nothing more arrives on them (the connection is gone;
    /// the worker finds out when its heartbeat goes unanswered).
    var deadStreams: Set<Int> = []
    var network = SimulatedNetwork()
    var parties = PartyNetwork()
    var raft: RaftInvariants
    var jobs = JobInvariants()
    public private(set) var report: ClusterSimulationReport
    var now = 0
    var nextCallID = 0
    /// Steps of the run, for a failing seed's report (only kept when set).
    public var trace: [String]?

    /// Virtual unix time: a step is 100 ms.
    var nowMs: UInt64 { 1_800_000_000_000 + UInt64(now) * 100 }

    public init(options: ClusterSimulationOptions) {
        self.options = options
        random = SplitMix64(seed: options.seed)
        ids = (1...options.coordinators).map { "c\($0)" }
        raft = RaftInvariants(seed: options.seed, replay: options.replayCommand)
        report = ClusterSimulationReport(seed: options.seed)
        let planner = CoordinatorPlanner(
            health: HealthPolicy(heartbeatTimeoutMs: options.heartbeatTimeoutMs, restartGraceMs: options.restartGraceMs),
            placement: Scheduler())
        // Seed-dependent message and pipeline sizes, small enough that entries of several terms
        // arrive in separate appends, large enough (4 entries or more) to keep up with the load.
        for (position, id) in ids.enumerated() {
            let raftOptions = RaftOptions(id: id, electionTicks: 10, heartbeatTicks: 1,
                                          maxEntriesPerMessage: 4 + random.below(13), maxInflight: 1 + random.below(8),
                                          seed: options.seed &* 31 &+ UInt64(position))
            coordinators[id] = SimulatedCoordinator(options: raftOptions, bootstrap: Membership(voters: ids), planner: planner)
            coordinators[id]!.projectionFault = options.projectionFault
        }
        for number in 1...options.workers {
            workers.append(SimulatedWorker(name: "w\(number)", gpuCount: 2, coordinators: ids, first: random.pick(ids)!))
        }
    }

    public mutating func run() throws(SimulationFailure) -> ClusterSimulationReport {
        do {
            while now < options.steps {
                injectFaults()
                try step(submitting: true)
            }
            try recover()
        } catch let failure as SimulationFailureBox {
            throw raft.fail(failure.what, now: now)
        } catch let failure as SimulationFailure {
            throw failure
        } catch {
            throw raft.fail("\(error)", now: now)
        }
        return report
    }

    // MARK: - One step

    mutating func step(submitting: Bool) throws {
        now += 1
        for id in ids where isLive(id) { coordinators[id]!.node.tick() }
        if submitting, random.chance(options.submitPercent) { submit() }
        var calls = clientCalls()
        for index in workers.indices { calls += workers[index].step(now: now, nextCallID: &nextCallID) }
        for call in calls where !random.chance(options.dropPercent) && !isCut(call.from) {
            parties.calls.append(.init(item: call, at: now + random.below(options.maxDelay + 1)))
        }
        for call in PartyNetwork.take(&parties.calls, now: now) where isLive(call.to) && !isCut(call.from) {
            var effects = SimulatedCoordinator.Effects()
            coordinators[call.to]!.handle(call, nowMs: nowMs, &effects)
            try carryOut(effects, from: call.to)
        }
        for reply in PartyNetwork.take(&parties.replies, now: now) where !isCut(reply.to) { try receive(reply) }
        for delivery in PartyNetwork.take(&parties.streams, now: now) where !deadStreams.contains(delivery.session) {
            guard let position = workers.firstIndex(where: { $0.name == delivery.worker }) else { continue }
            try workers[position].receive(delivery, now: now)
        }
        var stepped: Set<NodeID> = []
        for message in network.due(now: now, random: &random) where isLive(message.to) && network.connected(message.from, message.to) {
            coordinators[message.to]!.node.step(message)
            stepped.insert(message.to)
        }
        for id in ids where stepped.contains(id) { try applyCommittedNow(id) }
        for id in ids where isLive(id) { coordinators[id]!.plan(nowMs: nowMs) }
        for id in ids where isLive(id) && random.chance(options.readyPercent) && coordinators[id]!.node.hasReady {
            try processReady(id)
        }
        if now % options.compactEvery == 0 {
            for id in ids where isLive(id) { try coordinators[id]!.compact() }
        }
        try raft.checkStep(ids.filter(isLive).map { coordinators[$0]!.node }, now: now)
        try jobs.checkWorkers(workers)
        report.leadersElected = raft.leadersElected
    }

    mutating func processReady(_ id: NodeID) throws {
        var raft = self.raft
        let now = self.now
        let effects = try coordinators[id]!.handleReady(nowMs: nowMs) { ready throws(SimulationFailureBox) in
            do throws(SimulationFailure) { try raft.checkReady(ready, of: id, now: now) } catch { throw SimulationFailureBox(error.invariant) }
        }
        self.raft = raft
        if let leadership = effects.leadership { log("\(id) is \(leadership.role.rawValue) of term \(leadership.term)") }
        try jobs.checkApplied(coordinators[id]!, touched: effects.jobsTouched)
        try carryOut(effects, from: id)
    }

    /// Applies what the messages just stepped committed, as the coordinator's shell does
    /// while its Ready loop may be storing newer entries.
    mutating func applyCommittedNow(_ id: NodeID) throws {
        let (entries, effects) = try coordinators[id]!.applyCommittedNow(nowMs: nowMs)
        guard !entries.isEmpty else { return }
        do throws(SimulationFailure) { try raft.checkApplied(entries, of: id, now: now) } catch { throw SimulationFailureBox(error.invariant) }
        try jobs.checkApplied(coordinators[id]!, touched: effects.jobsTouched)
        try carryOut(effects, from: id)
    }

    /// Sends what a coordinator produced: Raft messages, replies, stream items.
    mutating func carryOut(_ effects: SimulatedCoordinator.Effects, from id: NodeID) throws {
        for message in effects.messages {
            _ = network.send(message, now: now, dropPercent: options.dropPercent, duplicatePercent: options.duplicatePercent,
                             maxDelay: options.maxDelay, random: &random)
        }
        for reply in effects.replies where !random.chance(options.dropPercent) {
            parties.replies.append(.init(item: reply, at: now + random.below(options.maxDelay + 1)))
        }
        for item in effects.streamItems { stream(item) }
        if effects.snapshotInstalled { report.snapshotsInstalled += 1 }
    }

    /// A stream delivers in order; its first item (the registration's answer) may be lost,
    /// which leaves the stream dead: the worker times out and registers again.
    mutating func stream(_ item: StreamDelivery) {
        if case .registered = item.item, random.chance(options.dropPercent) { return }
        let at = max(now + random.below(options.maxDelay + 1), parties.streamClock[item.session] ?? 0)
        parties.streamClock[item.session] = at
        parties.streams.append(.init(item: item, at: at))
    }

    // MARK: - The client

    mutating func submit() {
        var spec = Flotilla_V1_JobSpec()
        spec.model = SimulatedWorker.model
        spec.gpuCount = 1 + UInt32(random.below(2))
        spec.steps = UInt64(5 + random.below(36))
        spec.idempotencyKey = "k\(submissions.count + 1)"
        submissions.append(Submission(key: spec.idempotencyKey, spec: spec, target: random.pick(ids)!))
        report.submissions += 1
    }

    /// Every submission not yet acknowledged is (re)sent, with its key, until it is.
    mutating func clientCalls() -> [Call] {
        var calls: [Call] = []
        for index in submissions.indices where !submissions[index].acknowledged {
            if let call = submissions[index].call, now >= call.deadline {
                submissions[index].call = nil
                submissions[index].target = next(after: submissions[index].target)
            }
            guard submissions[index].call == nil, now >= submissions[index].retryAt else { continue }
            nextCallID += 1
            calls.append(Call(id: nextCallID, from: .client, to: submissions[index].target, request: .submit(submissions[index].spec)))
            submissions[index].call = .init(id: nextCallID, deadline: now + SimulatedWorker.callTimeout)
            submissions[index].sends += 1
        }
        return calls
    }

    mutating func receive(_ reply: Reply) throws {
        guard case .client = reply.to else {
            guard let position = workers.firstIndex(where: { .worker($0.name) == reply.to }) else { return }
            return workers[position].receive(reply, now: now)
        }
        guard let index = submissions.firstIndex(where: { $0.call?.id == reply.callID }) else { return }
        submissions[index].call = nil
        switch reply.answer {
        case .submitted(let job, let entry):
            try jobs.acknowledge(key: submissions[index].key, job: job, index: entry)
            if !submissions[index].acknowledged {
                submissions[index].acknowledged = true
                report.acknowledged += 1
                if submissions[index].sends > 1 { report.resent += 1 }
            }
        case .notLeader(let hint):
            submissions[index].target = hint ?? next(after: reply.from)
            if hint == nil { submissions[index].retryAt = now + 2 }
        default:
            // Refused (no worker serves the model yet, say): try again a little later.
            submissions[index].retryAt = now + 10
        }
    }

    func next(after coordinator: NodeID) -> NodeID {
        ids[((ids.firstIndex(of: coordinator) ?? 0) + 1) % ids.count]
    }

    // MARK: - Faults

    mutating func injectFaults() {
        for id in ids {
            if let until = crashedUntil[id] {
                if now >= until { restart(id) }
            } else if random.below(1000) < options.crashPerMille, crashedUntil.count < (ids.count - 1) / 2 {
                crash(id, for: 5 + random.below(40))
            }
        }
        if let leader = currentLeader, random.below(1000) < options.leaderCrashPerMille, crashedUntil.count < (ids.count - 1) / 2 {
            crash(leader, for: 1 + random.below(20))
            // Its peers see the connection close, as a coordinator's transport tells them.
            for id in ids where id != leader && isLive(id) && coordinators[id]!.node.leader == leader && random.chance(70) {
                coordinators[id]!.node.forgetLeader()
            }
        }
        for worker in workers {
            if let until = workerCutUntil[worker.name] {
                if now >= until { reconnect(worker.name) }
            } else if random.below(1000) < options.workerCutPerMille {
                workerCutUntil[worker.name] = now + 10 + random.below(241)
                // Its stream and the one a registration in flight would open die with the cut.
                if let session = worker.session { deadStreams.insert(session.id) }
                if let registration = worker.registerCall { deadStreams.insert(registration.id) }
                report.workerCuts += 1
                log("\(worker.name) cut off until \(workerCutUntil[worker.name]!)")
            }
        }
        if random.chance(options.partitionPercent) {
            if network.isPartitioned {
                network.heal()
                log("network heals")
            } else if let leader = currentLeader, random.chance(50) {
                network.isolate(leader, from: ids)
                report.partitions += 1
                log("network cut: leader \(leader) isolated")
            } else {
                network.partition(ids, random: &random)
                report.partitions += 1
                log("network cut")
            }
        }
    }

    /// The cut ends. The connection that carried the worker's stream did not survive it: the
    /// worker sees it close (a TCP user timeout, a reset) and registers again.
    mutating func reconnect(_ name: String) {
        workerCutUntil[name] = nil
        guard let position = workers.firstIndex(where: { $0.name == name }) else { return }
        if let session = workers[position].session, deadStreams.contains(session.id) {
            workers[position].endSession(tryNext: false)
        }
        log("\(name) reconnects")
    }

    mutating func crash(_ id: NodeID, for steps: Int) {
        crashedUntil[id] = now + steps
        report.crashes += 1
        log("\(id) crashes")
        // Its connections reset: every directive stream it held ends.
        var effects = SimulatedCoordinator.Effects()
        coordinators[id]!.endStreams(&effects)
        for item in effects.streamItems { stream(item) }
    }

    mutating func restart(_ id: NodeID) {
        crashedUntil[id] = nil
        do { try coordinators[id]!.restart() } catch { preconditionFailure("\(id) cannot restart from its own snapshot: \(error)") }
        log("\(id) restarts at applied \(coordinators[id]!.state.lastAppliedIndex)")
    }

    /// Everything heals; every submission must be acknowledged, every job end SUCCEEDED, every
    /// replica agree and no worker run anything, within the bound.
    mutating func recover() throws {
        network.heal()
        for name in workerCutUntil.keys.sorted() { reconnect(name) }
        for id in crashedUntil.keys.sorted() { restart(id) }
        log("recovery starts")
        let start = now
        while now - start < options.recoveryBound {
            try step(submitting: false)
            if settled {
                report.recoverySteps = now - start
                try finalCheck()
                return
            }
        }
        let leader = currentLeader.map { coordinators[$0]! }
        let unfinished = leader.map { leader in leader.state.jobs.filter { !$0.isTerminal }.map { describe($0, in: leader.state) } } ?? []
        throw SimulationFailureBox("no settled region within \(options.recoveryBound) steps after healing: leader \(leader?.id ?? "none"), "
            + "\(submissions.count(where: { !$0.acknowledged })) unacknowledged, unfinished \(unfinished.prefix(5)), "
            + ids.map { coordinators[$0]!.summary }.joined(separator: "; ") + "; workers: "
            + workers.map(\.summary).joined(separator: "; "))
    }

    var settled: Bool {
        guard let leader = currentLeader.map({ coordinators[$0]! }), leader.leading,
              submissions.allSatisfy(\.acknowledged),
              leader.state.jobs.allSatisfy(\.isTerminal),
              workers.allSatisfy({ $0.attempts.isEmpty }) else { return false }
        return ids.allSatisfy { coordinators[$0]!.state.lastAppliedIndex == leader.node.commitIndex }
    }

    mutating func finalCheck() throws {
        let states = ids.map { coordinators[$0]!.state }
        report.succeeded = states[0].jobs.count(where: { $0.state == .succeeded })
        report.attempts = states[0].jobs.reduce(0) { $0 + $1.attempts.count }
        report.reattempted = states[0].jobs.count(where: { $0.attempts.count > 1 })
        report.workerSessions = workers.reduce(0) { $0 + $1.sessions }
        report.fencings = workers.reduce(0) { $0 + $1.fencings }
        for (id, state) in zip(ids, states) {
            if state != states[0] { throw SimulationFailureBox("\(id)'s final state differs from \(ids[0])'s") }
            try jobs.checkAcknowledged(in: state, of: id)
        }
        for job in states[0].jobs where job.state != .succeeded {
            throw SimulationFailureBox("job \(job.id) ended \(job.state): \(job.error)")
        }
    }

    // MARK: - Helpers

    /// An unfinished job, for a failure's report: its last attempt, its worker's health, the timers.
    func describe(_ job: Job, in state: CoordinatorState) -> String {
        guard let attempt = job.attempts.last else { return "\(job.id) \(job.state)" }
        let health = state.worker(attempt.workerID).map { "\($0.health)" } ?? "gone"
        return "\(job.id) \(job.state) (attempt \(attempt.number) \(attempt.state) on \(attempt.workerID), worker \(health), "
            + "last progress at \(job.lastProgressAt), checkpoint deadline \(attempt.checkpointDeadline), now \(nowMs))"
    }

    func isLive(_ id: NodeID) -> Bool { crashedUntil[id] == nil }

    func isCut(_ party: Party) -> Bool {
        guard case .worker(let name) = party else { return false }
        return workerCutUntil[name] != nil
    }

    var currentLeader: NodeID? {
        ids.filter { isLive($0) && coordinators[$0]!.node.role == .leader }.max { coordinators[$0]!.node.term < coordinators[$1]!.node.term }
    }

    mutating func log(_ line: String) {
        trace?.append("[\(now)] \(line)")
    }
}
