@testable import FlotillaRaft
import Testing

/// A leader applies what an acknowledgement commits while it is still storing a later Ready
/// (`takeCommittedEntries`), and nothing is handed out twice or before it is stable.
@Suite struct CommittedDuringReadyTests {
    /// Three nodes whose storage is their memory: a Ready is stored by advancing it.
    struct Trio {
        var nodes: [NodeID: RaftNode] = [:]
        var inFlight: [Message] = []
        /// The indexes each node's Readies handed out to apply.
        var handedOut: [NodeID: [UInt64]] = [:]

        init() {
            for id in ["n1", "n2", "n3"] {
                let options = RaftOptions(id: id, electionTicks: 10, heartbeatTicks: 1, preVote: true, checkQuorum: true,
                                          maxInflight: 2, seed: 7)
                nodes[id] = RaftNode(options: options, bootstrap: Membership(voters: ["n1", "n2", "n3"]))
            }
        }

        mutating func processReady(_ id: NodeID) -> Ready {
            let ready = nodes[id]!.ready()
            inFlight += ready.messages
            handedOut[id, default: []] += ready.committedEntries.map(\.index)
            nodes[id]!.advance(ready)
            return ready
        }

        /// Delivers and processes until nothing moves, leaving messages to `held` in flight.
        mutating func settle(holdingFor held: Set<NodeID> = []) {
            var moved = true
            while moved {
                moved = false
                for id in nodes.keys.sorted() where !held.contains(id) && nodes[id]!.hasReady {
                    _ = processReady(id)
                    moved = true
                }
                let deliverable = inFlight.filter { !held.contains($0.to) }
                inFlight.removeAll { !held.contains($0.to) }
                for message in deliverable {
                    nodes[message.to]!.step(message)
                    moved = true
                }
            }
        }
    }

    @Test func anAcknowledgementCommitsStoredEntriesWhileTheNextReadyIsStored() throws {
        var trio = Trio()
        trio.nodes["n1"]!.campaign()
        trio.settle()
        #expect(trio.nodes["n1"]!.role == .leader)

        // "a" is stored by the leader and the followers; their acknowledgements wait.
        let a = try trio.nodes["n1"]!.propose(Array("a".utf8)).index
        _ = trio.processReady("n1")
        trio.settle(holdingFor: ["n1"])
        // "b" is proposed, and its Ready taken but not yet stored.
        _ = try trio.nodes["n1"]!.propose(Array("b".utf8))
        let storing = trio.nodes["n1"]!.ready()
        trio.inFlight += storing.messages
        #expect(storing.entries.map(\.index) == [a + 1])
        #expect(storing.committedEntries.isEmpty)

        for message in trio.inFlight where message.to == "n1" { trio.nodes["n1"]!.step(message) }
        trio.inFlight.removeAll { $0.to == "n1" }
        #expect(trio.nodes["n1"]!.commitIndex == a)
        // "a" applies now, during the sync of "b"; "b" is not stable yet, so it is not handed out.
        let taken = trio.nodes["n1"]!.takeCommittedEntries()
        #expect(taken.map(\.index) == [a])
        #expect(trio.nodes["n1"]!.takeCommittedEntries().isEmpty)

        trio.nodes["n1"]!.advance(storing)
        trio.handedOut["n1"] = []
        trio.settle()
        // Once "b" commits, a Ready hands out "b" alone: "a" is not applied twice.
        #expect(trio.nodes["n1"]!.commitIndex == a + 1)
        #expect(trio.handedOut["n1"] == [a + 1])
        #expect(trio.nodes["n1"]!.appliedIndex == a + 1)
    }

    @Test func nothingIsTakenThatIsCommittedButNotStable() throws {
        var trio = Trio()
        trio.nodes["n1"]!.campaign()
        trio.settle()
        // The followers store "c" and acknowledge before the leader has stored it.
        let c = try trio.nodes["n1"]!.propose(Array("c".utf8)).index
        let storing = trio.nodes["n1"]!.ready()
        trio.inFlight += storing.messages.filter { $0.kind == .append }
        trio.settle(holdingFor: ["n1"])
        for message in trio.inFlight where message.to == "n1" { trio.nodes["n1"]!.step(message) }
        trio.inFlight.removeAll { $0.to == "n1" }
        #expect(trio.nodes["n1"]!.commitIndex == c)
        #expect(trio.nodes["n1"]!.takeCommittedEntries().isEmpty)
        trio.nodes["n1"]!.advance(storing)
        #expect(trio.nodes["n1"]!.ready().committedEntries.map(\.index) == [c])
    }
}
