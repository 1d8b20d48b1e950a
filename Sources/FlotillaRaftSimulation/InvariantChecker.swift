import FlotillaRaft

/// The safety properties of Raft (Figure 3 of the paper), checked against everything the
/// simulated nodes store, apply and claim, plus the storage contract and client guarantees.
struct InvariantChecker {
    struct Position: Hashable { var index: UInt64; var term: UInt64 }

    /// Election Safety: one leader per term, ever.
    var leaderOfTerm: [UInt64: NodeID] = [:]
    /// Log Matching, first half: an index and term name one entry, on every node.
    var entryAt: [Position: Entry.Payload] = [:]
    /// Entries some node applied, so they are committed: State Machine Safety and Leader
    /// Completeness are checked against these.
    var committed: [UInt64: Entry] = [:]
    var highestCommitted: UInt64 = 0
    /// The one order of commands every state machine must apply.
    var canonical: [String] = []
    /// Commands whose proposer answered the client: they must never be lost.
    var acknowledged: Set<String> = []
    /// Storage contract: per node, the vote stored for each term (a vote never changes).
    var storedVotes: [NodeID: [UInt64: NodeID]] = [:]
    var storedTerm: [NodeID: UInt64] = [:]

    func fail(_ what: String, now: Int, options: SimulationOptions) -> SimulationFailure {
        SimulationFailure(seed: options.seed, step: now, invariant: what, replay: options.replayCommand)
    }

    mutating func checkReady(_ ready: Ready, of host: NodeHost, now: Int, options: SimulationOptions) throws(SimulationFailure) {
        let id = host.options.id
        if let hardState = ready.hardState {
            if hardState.term < storedTerm[id, default: 0] {
                throw fail("\(id) stored term \(hardState.term) after \(storedTerm[id]!)", now: now, options: options)
            }
            storedTerm[id] = hardState.term
            if let vote = hardState.vote {
                if let earlier = storedVotes[id]?[hardState.term], earlier != vote {
                    throw fail("\(id) voted for \(earlier) and then \(vote) in term \(hardState.term)", now: now, options: options)
                }
                storedVotes[id, default: [:]][hardState.term] = vote
            }
        }
        for entry in ready.entries {
            let position = Position(index: entry.index, term: entry.term)
            if let known = entryAt[position], known != entry.payload {
                throw fail("two different entries at \(entry.index)/\(entry.term)", now: now, options: options)
            }
            entryAt[position] = entry.payload
        }
        var added = 0
        for entry in ready.committedEntries {
            if let known = committed[entry.index], known != entry {
                throw fail("\(id) applied \(entry.scriptDescription) where \(known.scriptDescription) was applied",
                           now: now, options: options)
            }
            committed[entry.index] = entry
            highestCommitted = max(highestCommitted, entry.index)
            if case .command = entry.payload { added += 1 }
        }
        // Every state machine applies a prefix of the one canonical order of commands.
        let commands = host.appliedCommands
        let from = ready.snapshot == nil ? commands.count - added : 0
        for position in from..<commands.count {
            if position < canonical.count {
                if canonical[position] != commands[position] {
                    throw fail("\(id) applied \(commands[position]) as command \(position), others \(canonical[position])",
                               now: now, options: options)
                }
            } else {
                canonical.append(commands[position])
            }
        }
    }

    mutating func checkStep(hosts: [NodeHost], now: Int, options: SimulationOptions,
                            report: inout SimulationReport) throws(SimulationFailure) {
        for host in hosts where host.node.role == .leader {
            let node = host.node
            if let other = leaderOfTerm[node.term] {
                if other != node.id {
                    throw fail("two leaders in term \(node.term): \(other) and \(node.id)", now: now, options: options)
                }
                continue
            }
            leaderOfTerm[node.term] = node.id
            report.leadersElected += 1
            report.highestTerm = max(report.highestTerm, node.term)
            // Leader Completeness: a new leader holds every entry committed before it.
            if node.lastIndex < highestCommitted {
                throw fail("leader \(node.id) of term \(node.term) ends at \(node.lastIndex), \(highestCommitted) is committed",
                           now: now, options: options)
            }
            var index = node.snapshotIndex + 1
            while index <= highestCommitted {
                if let entry = committed[index], node.entry(at: index) != entry {
                    throw fail("leader \(node.id) of term \(node.term) lacks committed \(entry.scriptDescription)",
                               now: now, options: options)
                }
                index += 1
            }
        }
        report.committed = highestCommitted
        // Log Matching, second half: logs that agree at an index agree on everything before it.
        for (position, a) in hosts.enumerated() {
            for b in hosts[(position + 1)...] {
                try checkLogsMatch(a.node, b.node, now: now, options: options)
            }
        }
    }

    func checkLogsMatch(_ a: RaftNode, _ b: RaftNode, now: Int, options: SimulationOptions) throws(SimulationFailure) {
        let low = max(a.firstIndex, b.firstIndex)
        var high = min(a.lastIndex, b.lastIndex)
        guard low <= high else { return }
        while high >= low, a.term(at: high) != b.term(at: high) { high -= 1 }
        guard high >= low else { return }
        var index = low
        while index <= high {
            if a.entry(at: index) != b.entry(at: index) {
                throw fail("\(a.id) and \(b.id) agree at \(high) but differ at \(index)", now: now, options: options)
            }
            index += 1
        }
    }

    /// After recovery: every member applied the same commands, and every acknowledged one.
    func checkAcknowledgedKept(hosts: [NodeHost], now: Int, options: SimulationOptions) throws(SimulationFailure) {
        guard let leader = hosts.filter({ $0.node.role == .leader }).max(by: { $0.node.term < $1.node.term }) else {
            throw fail("no leader at the end", now: now, options: options)
        }
        let members = Set(leader.node.membership.members)
        for host in hosts where members.contains(host.options.id) {
            let applied = Set(host.appliedCommands)
            if let lost = acknowledged.first(where: { !applied.contains($0) }) {
                throw fail("acknowledged \(lost) is not applied on \(host.options.id)", now: now, options: options)
            }
            if host.appliedCommands != Array(canonical.prefix(host.appliedCommands.count)) {
                throw fail("\(host.options.id) applied a different order", now: now, options: options)
            }
        }
    }
}
