@testable import FlotillaRaft
import FlotillaRaftSimulation

/// Runs scenario script commands against a group of nodes and a network the script controls:
/// messages wait in flight until a `deliver-msgs` or `stabilize` hands them over, and links
/// cut by `isolate` or `cut` drop them.
struct Scenario {
    var hosts: [NodeID: NodeHost] = [:]
    var order: [NodeID] = []
    /// Sent and not yet delivered, in send order.
    var inFlight: [Message] = []
    var cutLinks: Set<[NodeID]> = []

    mutating func run(_ line: String) throws -> String {
        let command = ScriptCommand(line)
        switch command.name {
        case "add-nodes": return try addNodes(command)
        case "campaign":
            campaign(try name(command, 0))
            return ""
        case "tick", "tick-heartbeat", "tick-election":
            // Ticks each named node (every node when none is named) by `n=` ticks, one
            // heartbeat interval, or one election timeout.
            for id in try ids(command) {
                let count: Int
                switch command.name {
                case "tick": count = command.int("n", default: 1)
                case "tick-heartbeat": count = hosts[id]!.options.heartbeatTicks
                default: count = hosts[id]!.options.electionTicks
                }
                for _ in 0..<count { hosts[id]!.node.tick() }
            }
            return ""
        case "timeout":
            // Ticks a follower until its randomized election timer runs out.
            let id = try name(command, 0)
            let node = hosts[id]!.node
            for _ in 0..<max(1, node.randomizedElectionTicks - node.electionElapsed) { hosts[id]!.node.tick() }
            return ""
        case "propose":
            let id = try name(command, 0)
            guard command.positional.count > 1 else { throw ScriptError(message: "propose needs data") }
            return describe { () throws(RaftError) in
                let result = try hosts[id]!.node.propose(Array(command.positional[1].utf8))
                return "index=\(result.index) term=\(result.term)"
            }
        case "add-member", "add-learner", "remove-member":
            let id = try name(command, 0)
            guard command.positional.count > 1 else { throw ScriptError(message: "\(command.name) needs a member") }
            let member = command.positional[1]
            return describe { () throws(RaftError) in
                let index: UInt64
                switch command.name {
                case "add-member": index = try hosts[id]!.node.addMember(member, asVoter: true)
                case "add-learner": index = try hosts[id]!.node.addMember(member, asVoter: false)
                default: index = try hosts[id]!.node.removeMember(member)
                }
                return "index=\(index)"
            }
        case "transfer-leadership":
            let id = try name(command, 0)
            guard let target = command.options["to"] else { throw ScriptError(message: "transfer-leadership needs to=") }
            return describe { () throws(RaftError) in
                try hosts[id]!.node.transferLeadership(to: target)
                return ""
            }
        case "read-index":
            let id = try name(command, 0)
            let context = UInt64(command.positional.count > 1 ? command.positional[1] : "1") ?? 1
            return describe { () throws(RaftError) in
                try hosts[id]!.node.readIndex(context: context)
                return ""
            }
        case "process-ready":
            return try ids(command).compactMap { processReady($0) }.joined(separator: "\n")
        case "deliver-msgs":
            let drop = command.flag("drop", default: false)
            return try ids(command).compactMap { deliver(to: $0, drop: drop) }.joined(separator: "\n")
        case "stabilize":
            return try stabilize(try ids(command))
        case "isolate":
            let id = try name(command, 0)
            for other in order where other != id {
                cutLinks.insert([id, other])
                cutLinks.insert([other, id])
            }
            return ""
        case "cut":
            let a = try name(command, 0), b = try name(command, 1)
            cutLinks.insert([a, b])
            cutLinks.insert([b, a])
            return ""
        case "heal":
            cutLinks = []
            return ""
        case "status":
            return try ids(command).map { hosts[$0]!.node.status.scriptDescription }.joined(separator: "\n")
        case "raft-log":
            let node = try host(command, 0).node
            guard node.lastIndex >= node.firstIndex else { return "log is empty after snapshot \(node.snapshotIndex)" }
            return (node.firstIndex...node.lastIndex).map { node.entry(at: $0)!.scriptDescription }.joined(separator: "\n")
        case "applied":
            let host = try host(command, 0)
            return "index=\(host.appliedIndex) commands=[" + host.appliedCommands.joined(separator: ",") + "]"
        case "compact":
            let id = try name(command, 0)
            guard command.positional.count > 1, let index = UInt64(command.positional[1]) else {
                throw ScriptError(message: "compact needs an index")
            }
            hosts[id]!.compact(through: index)
            return "snapshot at \(hosts[id]!.node.snapshotIndex)"
        case "forget-leader":
            // The shell saw the leader's connection close: `forget-leader ID spacing=N`.
            let id = try name(command, 0)
            hosts[id]!.node.forgetLeader(spacing: command.int("spacing", default: 2))
            return hosts[id]!.node.status.scriptDescription
        case "restart":
            let id = try name(command, 0)
            hosts[id]!.restart()
            return hosts[id]!.node.status.scriptDescription
        default:
            throw ScriptError(message: "unknown command \(command.name)")
        }
    }

    // MARK: - Commands

    mutating func addNodes(_ command: ScriptCommand) throws -> String {
        guard let count = command.positional.first.flatMap(Int.init) else { throw ScriptError(message: "add-nodes needs a count") }
        let voters = command.list("voters") ?? (1...count).map { String(order.count + $0) }
        let learners = command.list("learners") ?? []
        var lines: [String] = []
        for _ in 0..<count {
            let id = String(order.count + 1)
            let options = RaftOptions(
                id: id,
                electionTicks: command.int("election", default: 10),
                heartbeatTicks: command.int("heartbeat", default: 1),
                preVote: command.flag("prevote", default: true),
                checkQuorum: command.flag("checkquorum", default: true),
                maxEntriesPerMessage: command.int("max-entries", default: 4096),
                maxInflight: command.int("max-inflight", default: 256),
                seed: UInt64(command.int("seed", default: 1)) &+ UInt64(order.count)
            )
            hosts[id] = NodeHost(options: options, bootstrap: Membership(voters: voters, learners: learners))
            order.append(id)
            lines.append(hosts[id]!.node.status.scriptDescription)
        }
        return lines.joined(separator: "\n")
    }

    mutating func processReady(_ id: NodeID) -> String? {
        guard let ready = hosts[id]!.handleReady() else { return nil }
        inFlight.append(contentsOf: ready.messages)
        var lines = ["> \(id) handling Ready"]
        if let leadership = ready.leadership {
            lines.append("  leadership: \(leadership.role.rawValue) term=\(leadership.term) leader=\(leadership.leader ?? "-")")
        }
        if let hardState = ready.hardState { lines.append("  hard state: \(hardState.scriptDescription)") }
        if let snapshot = ready.snapshot {
            lines.append("  snapshot: index=\(snapshot.index)/\(snapshot.term) \(snapshot.membership.scriptDescription)")
        }
        if !ready.entries.isEmpty {
            lines.append("  entries:")
            lines += ready.entries.map { "    " + $0.scriptDescription }
        }
        if !ready.committedEntries.isEmpty {
            lines.append("  committed:")
            lines += ready.committedEntries.map { "    " + $0.scriptDescription }
        }
        if !ready.messages.isEmpty {
            lines.append("  messages:")
            lines += ready.messages.map { "    " + $0.scriptDescription }
        }
        for read in ready.readStates { lines.append("  read state: index=\(read.index) ctx=\(read.context)") }
        return lines.joined(separator: "\n")
    }

    mutating func deliver(to id: NodeID, drop: Bool) -> String? {
        let messages = inFlight.filter { $0.to == id }
        guard !messages.isEmpty else { return nil }
        inFlight.removeAll { $0.to == id }
        var lines: [String] = []
        for message in messages {
            if drop || cutLinks.contains([message.from, message.to]) {
                lines.append("  dropped: " + message.scriptDescription)
            } else {
                lines.append("  " + message.scriptDescription)
                hosts[id]!.node.step(message)
            }
        }
        return "> \(id) receiving messages\n" + lines.joined(separator: "\n")
    }

    mutating func stabilize(_ ids: [NodeID]) throws -> String {
        var output: [String] = []
        for _ in 0..<1000 {
            var progressed = false
            for id in ids {
                if let text = processReady(id) {
                    output.append(text)
                    progressed = true
                }
            }
            for id in ids {
                if let text = deliver(to: id, drop: false) {
                    output.append(text)
                    progressed = true
                }
            }
            if !progressed { return output.joined(separator: "\n") }
        }
        throw ScriptError(message: "stabilize did not settle in 1000 rounds")
    }

    // MARK: - Arguments

    func name(_ command: ScriptCommand, _ position: Int) throws -> NodeID {
        guard position < command.positional.count else { throw ScriptError(message: "\(command.name): missing node") }
        let id = command.positional[position]
        guard hosts[id] != nil else { throw ScriptError(message: "\(command.name): no node \(id)") }
        return id
    }

    func host(_ command: ScriptCommand, _ position: Int) throws -> NodeHost {
        hosts[try name(command, position)]!
    }

    /// Nodes named on the line, or every node.
    func ids(_ command: ScriptCommand) throws -> [NodeID] {
        guard !command.positional.isEmpty else { return order }
        for id in command.positional where hosts[id] == nil { throw ScriptError(message: "no node \(id)") }
        return command.positional
    }

    func describe(_ body: () throws(RaftError) -> String) -> String {
        do { return try body() } catch { return "error: \(error)" }
    }
}

extension Scenario {
    /// `campaign` through the host, kept out of the switch for readability.
    mutating func campaign(_ id: NodeID) { hosts[id]!.node.campaign() }
}
