import FlotillaRaft
import FlotillaRandom

/// Messages in flight between simulated nodes: each is dropped, duplicated or delayed by a
/// seeded draw when sent, and dropped on delivery if a partition or a crash is in the way.
public struct SimulatedNetwork: Sendable {
    struct InFlight: Sendable {
        var message: Message
        var deliverAt: Int
    }

    var inFlight: [InFlight] = []
    /// Nodes on each side of the current cut; empty when whole.
    public internal(set) var sideOf: [NodeID: Int] = [:]

    public init() {}

    mutating func send(_ message: Message, now: Int, options: SimulationOptions, random: inout SplitMix64,
                       report: inout SimulationReport) {
        if !send(message, now: now, dropPercent: options.dropPercent, duplicatePercent: options.duplicatePercent,
                 maxDelay: options.maxDelay, random: &random) {
            report.messagesDropped += 1
        }
    }

    /// Queues `message` (perhaps twice, each with its own delay); false if it was dropped.
    public mutating func send(_ message: Message, now: Int, dropPercent: Int, duplicatePercent: Int, maxDelay: Int,
                              random: inout SplitMix64) -> Bool {
        if random.chance(dropPercent) { return false }
        let copies = random.chance(duplicatePercent) ? 2 : 1
        for _ in 0..<copies {
            inFlight.append(InFlight(message: message, deliverAt: now + random.below(maxDelay + 1)))
        }
        return true
    }

    /// Messages due by `now`, in a seeded order (so they arrive reordered), leaving the rest.
    public mutating func due(now: Int, random: inout SplitMix64) -> [Message] {
        var due: [Message] = []
        var later: [InFlight] = []
        for item in inFlight {
            if item.deliverAt <= now { due.append(item.message) } else { later.append(item) }
        }
        inFlight = later
        for position in stride(from: due.count - 1, to: 0, by: -1) {
            due.swapAt(position, random.below(position + 1))
        }
        return due
    }

    public func connected(_ a: NodeID, _ b: NodeID) -> Bool {
        sideOf.isEmpty || sideOf[a] == sideOf[b]
    }

    public var isPartitioned: Bool { !sideOf.isEmpty }

    /// Cuts the group in two at random: a minority side of at least one node, or an even split.
    public mutating func partition(_ nodes: [NodeID], random: inout SplitMix64) {
        var shuffled = nodes
        for position in stride(from: shuffled.count - 1, to: 0, by: -1) {
            shuffled.swapAt(position, random.below(position + 1))
        }
        let cut = 1 + random.below(max(1, nodes.count / 2))
        sideOf = [:]
        for (position, node) in shuffled.enumerated() { sideOf[node] = position < cut ? 0 : 1 }
    }

    public mutating func isolate(_ node: NodeID, from nodes: [NodeID]) {
        sideOf = Dictionary(uniqueKeysWithValues: nodes.map { ($0, $0 == node ? 0 : 1) })
    }

    public mutating func heal() { sideOf = [:] }
}
