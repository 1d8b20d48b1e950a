import FlotillaPKI
import FlotillaRaft
import FlotillaRaftWire
import FlotillaTLS
import FlotillaTransport
import Logging

/// Sends a Ready's messages to the peers they name, each peer over its own ordered link
/// (see `RaftPeerLink`), as RaftMessage frames, or RaftSnapshotChunk frames for a snapshot.
public final class RaftTransport: Sendable {
    private let links: [NodeID: RaftPeerLink]
    private let logger: Logger

    /// - Parameters:
    ///   - peers: every member but this one.
    ///   - tls: a client context with this coordinator's certificate.
    ///   - unreachable: told when a message to a peer could not be sent.
    public init(peers: [RaftPeer], tls: TLSContext, local: LocalNode, configuration: TransportConfiguration = .init(),
                logger: Logger, unreachable: @escaping @Sendable (NodeID) -> Void) {
        var links: [NodeID: RaftPeerLink] = [:]
        for peer in peers {
            links[peer.name] = RaftPeerLink(peer: peer, tls: tls, local: local, configuration: configuration,
                                            logger: logger, unreachable: unreachable)
        }
        self.links = links
        self.logger = logger
    }

    /// Queues each message for its peer; a message to a member this coordinator has no
    /// address for is dropped (and logged once per Ready).
    public func send(_ messages: [Message]) {
        var unknown: Set<NodeID> = []
        for message in messages {
            guard let link = links[message.to] else {
                unknown.insert(message.to)
                continue
            }
            switch RaftWireCodec.encode(message) {
            case .message(let frame):
                link.enqueue(frame)
            case .snapshot(let chunks):
                for chunk in chunks { link.enqueue(chunk) }
            }
        }
        if !unknown.isEmpty {
            logger.warning("raft messages to members with no configured address dropped",
                           metadata: ["flotilla.members": "\(unknown.sorted().joined(separator: ","))"])
        }
    }

    public func close() {
        for link in links.values { link.close() }
    }
}
