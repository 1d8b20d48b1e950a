import FlotillaRaft
import FlotillaTransport

/// A member of the coordinator group as configured (`raft.peers`): its name, which is its
/// Raft id and the name in its certificate, and the protocol address it serves on.
public struct RaftPeer: Sendable, Hashable, CustomStringConvertible {
    public var name: NodeID
    public var address: Endpoint

    public init(name: NodeID, address: Endpoint) {
        self.name = name
        self.address = address
    }

    public var description: String { "\(name)@\(address)" }
}
