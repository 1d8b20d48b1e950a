import FlotillaRaft

/// Raft's safety properties (`RaftInvariants`) plus what this simulation's clients are
/// promised: one order of commands on every state machine, and no acknowledged command lost.
struct InvariantChecker {
    var raft: RaftInvariants
    /// The one order of commands every state machine must apply.
    var canonical: [String] = []
    /// Commands whose proposer answered the client: they must never be lost.
    var acknowledged: Set<String> = []

    init(options: SimulationOptions) {
        raft = RaftInvariants(seed: options.seed, replay: options.replayCommand)
    }

    func fail(_ what: String, now: Int) -> SimulationFailure { raft.fail(what, now: now) }

    mutating func checkReady(_ ready: Ready, of host: NodeHost, now: Int) throws(SimulationFailure) {
        let id = host.options.id
        try raft.checkReady(ready, of: id, now: now)
        let added = ready.committedEntries.filter { if case .command = $0.payload { true } else { false } }.count
        // Every state machine applies a prefix of the one canonical order of commands.
        let commands = host.appliedCommands
        let from = ready.snapshot == nil ? commands.count - added : 0
        for position in from..<commands.count {
            if position < canonical.count {
                if canonical[position] != commands[position] {
                    throw fail("\(id) applied \(commands[position]) as command \(position), others \(canonical[position])", now: now)
                }
            } else {
                canonical.append(commands[position])
            }
        }
    }

    mutating func checkStep(hosts: [NodeHost], now: Int, report: inout SimulationReport) throws(SimulationFailure) {
        try raft.checkStep(hosts.map(\.node), now: now)
        report.leadersElected = raft.leadersElected
        report.highestTerm = raft.highestTerm
        report.committed = raft.highestCommitted
    }

    /// After recovery: every member applied the same commands, and every acknowledged one.
    func checkAcknowledgedKept(hosts: [NodeHost], now: Int) throws(SimulationFailure) {
        guard let leader = hosts.filter({ $0.node.role == .leader }).max(by: { $0.node.term < $1.node.term }) else {
            throw fail("no leader at the end", now: now)
        }
        let members = Set(leader.node.membership.members)
        for host in hosts where members.contains(host.options.id) {
            let applied = Set(host.appliedCommands)
            if let lost = acknowledged.first(where: { !applied.contains($0) }) {
                throw fail("acknowledged \(lost) is not applied on \(host.options.id)", now: now)
            }
            if host.appliedCommands != Array(canonical.prefix(host.appliedCommands.count)) {
                throw fail("\(host.options.id) applied a different order", now: now)
            }
        }
    }
}
