/// A summary for metrics, health checks and `flotillactl operator raft list-peers`.
public struct RaftStatus: Equatable, Sendable {
    public var id: NodeID
    public var role: Role
    public var term: UInt64
    public var leader: NodeID?
    public var commit: UInt64
    public var applied: UInt64
    public var lastIndex: UInt64
    public var snapshotIndex: UInt64
    public var membership: Membership
    /// Leader only.
    public var progress: [NodeID: Progress]
    public var transferee: NodeID?
    public var electionsStarted: Int
}

extension RaftNode {
    public var status: RaftStatus {
        RaftStatus(id: id, role: role, term: term, leader: leader, commit: log.committed, applied: log.applied,
                   lastIndex: log.lastIndex, snapshotIndex: log.snapshotIndex, membership: membership,
                   progress: progress, transferee: transferee, electionsStarted: electionsStarted)
    }
}
