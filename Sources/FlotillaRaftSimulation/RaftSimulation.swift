import FlotillaRaft
import FlotillaRandom

/// A seeded, replayable run of a whole Raft group over a hostile simulated network: nodes
/// crash and restart from what they stored, partitions come and go, messages are lost,
/// doubled and reordered, and disks are slow. Every invariant is checked after every step;
/// then everything heals and the group must agree and make progress within a bound.
public struct RaftSimulation {
    public let options: SimulationOptions
    var random: SplitMix64
    var hosts: [NodeID: NodeHost] = [:]
    let ids: [NodeID]
    var crashedUntil: [NodeID: Int] = [:]
    var network = SimulatedNetwork()
    var checker: InvariantChecker
    public private(set) var report: SimulationReport
    var now = 0
    var nextCommand = 0
    /// Proposals not yet acknowledged: the proposer, and where the entry will be if it commits.
    var pending: [(node: NodeID, index: UInt64, term: UInt64, command: String)] = []
    /// Steps of the run, for a failing seed's report (only kept when `trace` is set).
    public var trace: [String]? = nil

    public init(options: SimulationOptions) {
        self.options = options
        random = SplitMix64(seed: options.seed)
        ids = (1...options.nodes).map { "n\($0)" }
        report = SimulationReport(seed: options.seed)
        checker = InvariantChecker(options: options)
        let voters = options.membershipChanges ? Array(ids.prefix(3)) : ids
        // Small, seed-dependent message and pipeline sizes, so that entries of several terms
        // arrive in separate appends (the interleavings behind the Figure 8 case).
        let perMessage = 1 + random.below(16)
        let inflight = 1 + random.below(8)
        for (position, id) in ids.enumerated() {
            let raft = RaftOptions(id: id, electionTicks: options.electionTicks, heartbeatTicks: 1,
                                   maxEntriesPerMessage: perMessage, maxInflight: inflight,
                                   seed: options.seed &* 31 &+ UInt64(position))
            // Members added later start with no membership, as a joining node would.
            hosts[id] = NodeHost(options: raft, bootstrap: voters.contains(id) ? Membership(voters: voters) : .none)
        }
    }

    public mutating func run() throws(SimulationFailure) -> SimulationReport {
        while now < options.steps {
            injectFaults()
            try step(proposing: true)
        }
        try recover()
        try checker.checkAcknowledgedKept(hosts: liveHosts, now: now)
        return report
    }

    /// One step: timers, traffic, storage and delivery, then the invariants.
    mutating func step(proposing: Bool) throws(SimulationFailure) {
        now += 1
        for id in ids where isLive(id) { hosts[id]!.node.tick() }
        if proposing, random.chance(options.proposePercent) { propose() }
        if proposing, options.membershipChanges, random.chance(2) { changeMembership() }
        for id in ids where isLive(id) && random.chance(options.readyPercent) { try processReady(id) }
        for message in network.due(now: now, random: &random) { deliver(message) }
        if now % options.compactEvery == 0 { compactAll() }
        try checker.checkStep(hosts: liveHosts, now: now, report: &report)
    }

    // MARK: - Faults

    mutating func injectFaults() {
        for id in ids {
            if let until = crashedUntil[id] {
                if now >= until {
                    crashedUntil[id] = nil
                    hosts[id]!.restart()
                    pending.removeAll { $0.node == id }
                    log("\(id) restarts: \(hosts[id]!.node.status.scriptDescription)")
                }
            } else if random.below(1000) < options.crashPerMille, crashedUntil.count < (options.nodes - 1) / 2 + 1 {
                crashedUntil[id] = now + 5 + random.below(4 * options.electionTicks)
                report.crashes += 1
                log("\(id) crashes")
            }
        }
        // Leaders are crashed on purpose too: successive short reigns are where the commit rules
        // across terms matter.
        if let leader = currentLeader, random.below(1000) < options.leaderCrashPerMille,
           crashedUntil.count < (options.nodes - 1) / 2 {
            crashedUntil[leader] = now + 1 + random.below(2 * options.electionTicks)
            report.crashes += 1
            log("\(leader) (leader) crashes")
            if options.leaderHints { hintLeaderGone(leader, chance: 70) }
        }
        // A false alarm: a follower is told its live leader's connection closed.
        if options.leaderHints, let leader = currentLeader, random.below(1000) < 5 {
            hintLeaderGone(leader, chance: 30)
        }
        if random.chance(options.partitionPercent) {
            if network.isPartitioned {
                network.heal()
                log("network heals")
            } else if let leader = currentLeader, random.chance(50) {
                // The leader alone is cut off: it keeps taking proposals it cannot commit.
                network.isolate(leader, from: ids)
                report.partitions += 1
                log("network cut: leader \(leader) isolated")
            } else {
                network.partition(ids, random: &random)
                report.partitions += 1
                log("network cut: \(network.sideOf.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "))")
            }
        }
    }

    /// Everything heals and restarts; the group must then elect, commit and apply a new entry on
    /// every member within the bound.
    mutating func recover() throws(SimulationFailure) {
        network.heal()
        for id in crashedUntil.keys.sorted() {
            hosts[id]!.restart()
            pending.removeAll { $0.node == id }
        }
        crashedUntil = [:]
        log("recovery starts")
        let start = now
        var marker: (node: NodeID, index: UInt64, term: UInt64)?
        while now - start < options.recoveryBound {
            try step(proposing: false)
            if marker == nil || hosts[marker!.node]!.node.term(at: marker!.index) != marker!.term {
                marker = nil
                if let leader = currentLeader, let placed = try? hosts[leader]!.node.propose(Array("final".utf8)) {
                    marker = (leader, placed.index, placed.term)
                    pending.append((leader, placed.index, placed.term, "final"))
                }
            }
            if let marker, everyMemberApplied(through: marker.index, term: marker.term) {
                report.recoverySteps = now - start
                // Let the last acknowledgements and commit indexes settle everywhere.
                for _ in 0..<(4 * options.electionTicks) { try step(proposing: false) }
                return
            }
        }
        throw SimulationFailure(seed: options.seed, step: now,
                                invariant: "no progress within \(options.recoveryBound) steps after healing:\n"
                                    + ids.map { hosts[$0]!.node.status.scriptDescription + " applied=\(hosts[$0]!.appliedIndex)" }.joined(separator: "\n"),
                                replay: options.replayCommand)
    }

    // MARK: - Traffic

    var currentLeader: NodeID? {
        ids.filter { isLive($0) && hosts[$0]!.node.role == .leader }.max { hosts[$0]!.node.term < hosts[$1]!.node.term }
    }

    mutating func propose() {
        // Clients sometimes reach an old leader (which may take the proposal and lose it) or a
        // follower (which refuses).
        let target = random.chance(70) ? currentLeader : random.pick(ids.filter { isLive($0) })
        guard let target else { return }
        nextCommand += 1
        let command = "c\(nextCommand)"
        guard let placed = try? hosts[target]!.node.propose(Array(command.utf8)) else { return }
        report.proposals += 1
        pending.append((target, placed.index, placed.term, command))
    }

    mutating func changeMembership() {
        guard let leader = currentLeader else { return }
        let node = hosts[leader]!.node
        let membership = node.membership
        let outside = ids.filter { !membership.contains($0) }
        let result: UInt64?
        if let learner = membership.learners.first, (node.progress[learner]?.match ?? 0) + 5 >= node.lastIndex {
            result = try? hosts[leader]!.node.addMember(learner, asVoter: true)
        } else if membership.voters.count > 3 || (membership.voters.count == 3 && outside.isEmpty && random.chance(50)) {
            result = try? hosts[leader]!.node.removeMember(random.pick(membership.voters)!)
        } else if let joining = random.pick(outside), membership.learners.isEmpty {
            result = try? hosts[leader]!.node.addMember(joining, asVoter: false)
        } else {
            result = nil
        }
        if result != nil {
            report.membershipChanges += 1
            log("\(leader) proposes membership \(hosts[leader]!.node.entry(at: hosts[leader]!.node.lastIndex)!.scriptDescription)")
        }
    }

    mutating func processReady(_ id: NodeID) throws(SimulationFailure) {
        guard let ready = hosts[id]!.handleReady() else { return }
        try checker.checkReady(ready, of: hosts[id]!, now: now)
        for entry in ready.committedEntries { acknowledge(entry, appliedBy: id) }
        if trace != nil {
            for message in ready.messages { log("  send " + message.scriptDescription) }
            for entry in ready.committedEntries { log("  \(id) applies " + entry.scriptDescription) }
        }
        for message in ready.messages {
            if message.kind == .snapshot { report.snapshotsSent += 1 }
            network.send(message, now: now, options: options, random: &random, report: &report)
        }
        if let leadership = ready.leadership { log("\(id) is \(leadership.role.rawValue) of term \(leadership.term)") }
    }

    /// The proposer's shell answers its client when its own node applies the entry in the term
    /// it was proposed in.
    mutating func acknowledge(_ entry: Entry, appliedBy id: NodeID) {
        guard case .command(let bytes) = entry.payload else { return }
        let command = String(decoding: bytes, as: UTF8.self)
        if let position = pending.firstIndex(where: { $0.node == id && $0.index == entry.index }) {
            let proposal = pending.remove(at: position)
            if proposal.term == entry.term, proposal.command == command {
                checker.acknowledged.insert(command)
                report.acknowledged += 1
            }
        }
    }

    mutating func deliver(_ message: Message) {
        guard isLive(message.to), network.connected(message.from, message.to) else {
            report.messagesDropped += 1
            return
        }
        report.messagesDelivered += 1
        if trace != nil { log("  deliver " + message.scriptDescription) }
        hosts[message.to]!.node.step(message)
    }

    mutating func compactAll() {
        for id in ids where isLive(id) {
            let applied = hosts[id]!.appliedIndex
            // Keep a short tail so a briefly lagging follower catches up by entries; one further
            // behind gets a snapshot.
            let keep = UInt64(random.below(12))
            if applied > keep { hosts[id]!.compact(through: applied - keep) }
        }
    }

    // MARK: - Helpers

    func isLive(_ id: NodeID) -> Bool { crashedUntil[id] == nil }

    /// Each live follower of `leader` sees its connection close with `chance` percent.
    mutating func hintLeaderGone(_ leader: NodeID, chance: Int) {
        for id in ids where id != leader && isLive(id) && hosts[id]!.node.leader == leader && random.chance(chance) {
            hosts[id]!.node.forgetLeader()
            report.leaderHints += 1
            log("\(id) hears that leader \(leader) is gone")
        }
    }

    var liveHosts: [NodeHost] { ids.compactMap { isLive($0) ? hosts[$0] : nil } }

    func everyMemberApplied(through index: UInt64, term: UInt64) -> Bool {
        guard let leader = currentLeader else { return false }
        return hosts[leader]!.node.membership.members.allSatisfy { member in
            let host = hosts[member]!
            return host.appliedIndex >= index
                && (host.node.term(at: index) == term || host.node.snapshotIndex >= index)
        }
    }

    mutating func log(_ line: String) {
        trace?.append("[\(now)] \(line)")
    }
}
