import FlotillaCoordinatorState
import FlotillaProto
import FlotillaRaft
import FlotillaRaftHost
import FlotillaRaftStorage
import Foundation

/// What a coordinator of a replicated group holds beside its state: its Raft node, the
/// node's storage, the links to the other members and the queue of their messages. Owned by
/// the `CoordinatorCore` actor and used only on it (a class so that the core mutates the
/// node in place).
final class RaftReplica {
    var node: RaftNode
    let storage: RaftStorage
    let settings: RaftSettings
    let inbox: RaftInbox
    /// Set once the process starts serving (the links need its TLS context).
    var transport: RaftTransport?
    var pending = PendingProposals()
    /// A Ready with a leader's snapshot is being stored: nothing applies until it is installed.
    var installingSnapshot = false
    /// Runs the Ready loop: every input to the node wakes it.
    let readyWakeup = PlannerWakeup()
    /// When this member last heard from a leader (or, leading, when it became leader).
    var lastContactMs: UInt64 = 0
    /// When each other member was last heard from (any message).
    var lastHeard: [NodeID: UInt64] = [:]
    /// Elections that made this member leader.
    var termsLed: UInt64 = 0
    /// What a new leader writes at the start of its term (the configuration's).
    var breakers = BreakerPolicy()
    var tenants: [Flotilla_V1_TenantQuota] = []
    /// This member's current term as leader, for the leader-failover drill: when it was
    /// elected, when its first entry committed, when it acknowledged its first submission.
    var termTimes = TermTimes()
    /// Called once it serves as leader (the drill runner picks up a running drill).
    var onLeading: (@Sendable (UInt64) -> Void)?

    struct TermTimes {
        var term: UInt64 = 0
        var electedAt: UInt64 = 0
        var servingAt: UInt64 = 0
        var firstSubmissionAt: UInt64?
    }

    init(node: RaftNode, storage: RaftStorage, settings: RaftSettings, inbox: RaftInbox) {
        self.node = node
        self.storage = storage
        self.settings = settings
        self.inbox = inbox
    }

    /// The configuration of a member, from the settings: pre-vote and check-quorum on, the
    /// election timeout in heartbeat ticks, a seed of its own, and two appends in flight per
    /// follower. Two, not etcd's 256: with a deep pipeline every proposal leaves in an append
    /// of its own and costs each follower a Ready, a sync and an acknowledgement; with two,
    /// what is proposed during a round trip leaves together in the next append. On the
    /// 2-core bench that doubled the jobs/s of three coordinators (678 to 1,348) and halved
    /// the submission latency (18.6 to 8.0 ms p50); one in flight was slower than two.
    static func options(name: String, settings: RaftSettings) -> RaftOptions {
        RaftOptions(id: name, electionTicks: max(3, settings.electionTicks), heartbeatTicks: 1, preVote: true,
                    checkQuorum: true, maxInflight: 2, seed: UInt64.random(in: 1...UInt64.max))
    }

    /// The protocol address of the current leader, for NOT_LEADER hints.
    var leaderAddress: String? {
        guard let leader = node.leader, leader != node.id else { return nil }
        return settings.peer(named: leader)?.address.description
    }

    var isLeader: Bool { node.role == .leader }
}
