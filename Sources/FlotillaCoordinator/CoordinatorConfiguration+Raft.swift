import FlotillaConfig
import FlotillaRaftHost
import FlotillaTransport

/// `raft.*`: the coordinators of this region that replicate one log. No peers (or only this
/// coordinator) is a one-node group on today's durable log; three or five are a Raft group.
public struct RaftSettings: Sendable, Equatable {
    /// Every member, this coordinator included, by name and protocol address.
    public var peers: [RaftPeer] = []
    /// The leader heartbeats this often; it is also the Raft tick.
    public var heartbeatIntervalMs: UInt64 = 100
    /// A follower that hears nothing from a leader for this long (randomized up to twice
    /// it) starts an election.
    public var electionTimeoutMs: UInt64 = 1_000
    /// A new member of a running group: it starts with no membership and waits to be added
    /// (`flotillactl operator raft add-peer`) instead of bootstrapping from `peers`.
    public var join = false

    public init() {}

    /// More than this coordinator: the log is replicated by Raft.
    public var isReplicated: Bool { peers.count > 1 }

    /// The election timeout in ticks of the heartbeat interval.
    public var electionTicks: Int { Int(electionTimeoutMs / heartbeatIntervalMs) }

    public func peer(named name: String) -> RaftPeer? { peers.first { $0.name == name } }

    static let maxPeers = 7
}

extension CoordinatorConfiguration {
    static func raft(_ reader: ConfigReader, name: String) throws -> RaftSettings {
        var raft = RaftSettings()
        raft.peers = try reader.table("raft.peers") { item in
            let peerName = try item.requiredString("name")
            let text = try item.requiredString("address")
            guard let address = Endpoint(text) else {
                throw ConfigError(key: item.fullKey("address"), "expected host:port, got \"\(text)\"")
            }
            return RaftPeer(name: peerName, address: address)
        }
        raft.heartbeatIntervalMs = try reader.milliseconds("raft.heartbeat_interval", default: raft.heartbeatIntervalMs, minimum: 5)
        raft.electionTimeoutMs = try reader.milliseconds("raft.election_timeout", default: raft.electionTimeoutMs, minimum: 50)
        guard raft.electionTimeoutMs >= 3 * raft.heartbeatIntervalMs else {
            throw ConfigError(key: "raft.election_timeout",
                              "must be at least 3 times raft.heartbeat_interval (\(raft.electionTimeoutMs) ms < 3 × \(raft.heartbeatIntervalMs) ms), or followers time out between heartbeats")
        }
        raft.join = try reader.bool("raft.join", default: raft.join)
        guard !raft.peers.isEmpty else { return raft }
        guard raft.peers.count <= RaftSettings.maxPeers else {
            throw ConfigError(key: "raft.peers", "at most \(RaftSettings.maxPeers) coordinators per region (\(raft.peers.count) given): each one more slows every commit")
        }
        var seen: Set<String> = []
        for peer in raft.peers where !seen.insert(peer.name).inserted {
            throw ConfigError(key: "raft.peers", "\"\(peer.name)\" is listed twice")
        }
        guard seen.contains(name) else {
            throw ConfigError(key: "raft.peers", "does not list this coordinator (\"\(name)\"); list every member, this one included")
        }
        return raft
    }
}
