import FlotillaPKI
import FlotillaProto
import FlotillaRaft
import FlotillaRaftHost
import FlotillaRaftWire
import FlotillaWire
@testable import FlotillaTransport
import Logging
import Testing

/// Who may send consensus messages (PROTOCOL.md §11.6): the transport admits only
/// coordinator certificates of the cluster (role policy, handshake); the inbox then drops
/// any from another region, any whose `from` is not the sender's certificate name, and any
/// addressed to another member. What it admits reaches the core in arrival order.
@Suite struct RaftInboxTests {
    static func request(_ message: Message, sender: String, region: String? = "us-east") -> InboundRequest {
        guard case .message(let wire) = RaftWireCodec.encode(message) else { preconditionFailure("not a plain message") }
        let peer = PeerInfo(identity: NodeIdentity(cluster: "test", role: .coordinator, name: sender, region: region),
                            remoteAddress: "127.0.0.1:1", version: 1, connectionID: 7)
        return InboundRequest(peer: peer, kind: .raftMessage, correlationID: 0, message: wire)
    }

    static func heartbeat(from: String, to: String = "c1", term: UInt64) -> Message {
        var message = Message(kind: .heartbeat, from: from, to: to, term: term)
        message.commit = 0
        return message
    }

    @Test func onlyTheSameRegionsNamedSenderToThisMemberGetsThrough() async {
        let inbox = RaftInbox(id: "c1", region: "us-east", logger: Logger(label: "test"))
        #expect(inbox.receive(Self.request(Self.heartbeat(from: "c2", term: 1), sender: "c2")))
        #expect(inbox.receive(Self.request(Self.heartbeat(from: "c3", term: 2), sender: "c3", region: "eu-west")))
        #expect(inbox.receive(Self.request(Self.heartbeat(from: "c3", term: 3), sender: "c2")), "c2 posing as c3")
        #expect(inbox.receive(Self.request(Self.heartbeat(from: "c2", to: "c9", term: 4), sender: "c2")))
        #expect(inbox.receive(Self.request(Self.heartbeat(from: "c2", term: 5), sender: "c2")))
        #expect(inbox.droppedCount == 3, "each refusal is counted (flotilla_raft_inbox_dropped_total)")
        inbox.finish()
        var terms: [UInt64] = []
        for await batch in inbox.batches { terms += batch.map(\.term) }
        #expect(terms == [1, 5], "only c2's own messages to c1, in the order they came")
    }

    @Test func otherKindsAreNotTheInboxs() {
        let inbox = RaftInbox(id: "c1", region: "us-east", logger: Logger(label: "test"))
        let peer = PeerInfo(identity: NodeIdentity(cluster: "test", role: .coordinator, name: "c2", region: "us-east"),
                            remoteAddress: "127.0.0.1:1", version: 1, connectionID: 7)
        #expect(!inbox.receive(InboundRequest(peer: peer, kind: .ping, correlationID: 0, message: Flotilla_V1_Ping())))
    }
}
