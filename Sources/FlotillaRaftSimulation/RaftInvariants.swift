import FlotillaRaft

/// The safety properties of Raft (Figure 3 of the paper), checked against what simulated
/// nodes store and claim: one leader per term, log matching, leader completeness, one entry
/// applied at each index, and the storage contract (a term never goes back, a vote never
/// changes). Shared by the Raft-group simulation and the whole-coordinator simulation.
public struct RaftInvariants: Sendable {
    struct Position: Hashable { var index: UInt64; var term: UInt64 }

    public let seed: UInt64
    public let replay: String
    /// Election Safety: one leader per term, ever.
    var leaderOfTerm: [UInt64: NodeID] = [:]
    /// Log Matching, first half: an index and term name one entry, on every node.
    var entryAt: [Position: Entry.Payload] = [:]
    /// Entries some node applied, so they are committed: State Machine Safety and Leader
    /// Completeness are checked against these.
    var committed: [UInt64: Entry] = [:]
    public private(set) var highestCommitted: UInt64 = 0
    public private(set) var highestTerm: UInt64 = 0
    public private(set) var leadersElected = 0
    /// Storage contract: per node, the vote stored for each term (a vote never changes).
    var storedVotes: [NodeID: [UInt64: NodeID]] = [:]
    var storedTerm: [NodeID: UInt64] = [:]

    public init(seed: UInt64, replay: String) {
        self.seed = seed
        self.replay = replay
    }

    public func fail(_ what: String, now: Int) -> SimulationFailure {
        SimulationFailure(seed: seed, step: now, invariant: what, replay: replay)
    }

    /// A Ready `id` is about to store and apply.
    public mutating func checkReady(_ ready: Ready, of id: NodeID, now: Int) throws(SimulationFailure) {
        if let hardState = ready.hardState {
            if hardState.term < storedTerm[id, default: 0] {
                throw fail("\(id) stored term \(hardState.term) after \(storedTerm[id]!)", now: now)
            }
            storedTerm[id] = hardState.term
            if let vote = hardState.vote {
                if let earlier = storedVotes[id]?[hardState.term], earlier != vote {
                    throw fail("\(id) voted for \(earlier) and then \(vote) in term \(hardState.term)", now: now)
                }
                storedVotes[id, default: [:]][hardState.term] = vote
            }
        }
        for entry in ready.entries {
            let position = Position(index: entry.index, term: entry.term)
            if let known = entryAt[position], known != entry.payload {
                throw fail("two different entries at \(entry.index)/\(entry.term)", now: now)
            }
            entryAt[position] = entry.payload
        }
        try checkApplied(ready.committedEntries, of: id, now: now)
    }

    /// Entries a node hands out to apply, in a Ready or taken between Readies
    /// (`RaftNode.takeCommittedEntries`): every node applies the same entry at an index.
    public mutating func checkApplied(_ entries: [Entry], of id: NodeID, now: Int) throws(SimulationFailure) {
        for entry in entries {
            if let known = committed[entry.index], known != entry {
                throw fail("\(id) applied \(entry.scriptDescription) where \(known.scriptDescription) was applied", now: now)
            }
            committed[entry.index] = entry
            highestCommitted = max(highestCommitted, entry.index)
        }
    }

    /// After a step, over the live nodes: one leader per term, a new leader holds every
    /// committed entry, and logs that agree at an index agree before it.
    public mutating func checkStep(_ nodes: [RaftNode], now: Int) throws(SimulationFailure) {
        for node in nodes where node.role == .leader {
            if let other = leaderOfTerm[node.term] {
                if other != node.id { throw fail("two leaders in term \(node.term): \(other) and \(node.id)", now: now) }
                continue
            }
            leaderOfTerm[node.term] = node.id
            leadersElected += 1
            highestTerm = max(highestTerm, node.term)
            if node.lastIndex < highestCommitted {
                throw fail("leader \(node.id) of term \(node.term) ends at \(node.lastIndex), \(highestCommitted) is committed", now: now)
            }
            var index = node.snapshotIndex + 1
            while index <= highestCommitted {
                if let entry = committed[index], node.entry(at: index) != entry {
                    throw fail("leader \(node.id) of term \(node.term) lacks committed \(entry.scriptDescription)", now: now)
                }
                index += 1
            }
        }
        for (position, a) in nodes.enumerated() {
            for b in nodes[(position + 1)...] { try checkLogsMatch(a, b, now: now) }
        }
    }

    func checkLogsMatch(_ a: RaftNode, _ b: RaftNode, now: Int) throws(SimulationFailure) {
        let low = max(a.firstIndex, b.firstIndex)
        var high = min(a.lastIndex, b.lastIndex)
        guard low <= high else { return }
        while high >= low, a.term(at: high) != b.term(at: high) { high -= 1 }
        guard high >= low else { return }
        var index = low
        while index <= high {
            if a.entry(at: index) != b.entry(at: index) {
                throw fail("\(a.id) and \(b.id) agree at \(high) but differ at \(index)", now: now)
            }
            index += 1
        }
    }
}
