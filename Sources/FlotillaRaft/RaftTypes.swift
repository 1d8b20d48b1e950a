/// The values the Raft core reads and writes. Node names are the coordinators' names from
/// configuration, so scenario scripts, logs and `flotillactl operator raft` read the same.
public typealias NodeID = String

/// One position in the replicated log.
public struct Entry: Equatable, Sendable {
    public enum Payload: Equatable, Sendable {
        /// Appended by every new leader, so that it can commit entries of its own term (§5.4.2).
        case empty
        /// An encoded command of the state machine above (for Flotilla, a coordinator command).
        case command([UInt8])
        /// The whole membership that takes effect as soon as the entry is in a log (thesis §4.1).
        case membership(Membership)
    }

    public var index: UInt64
    public var term: UInt64
    public var payload: Payload

    public init(index: UInt64, term: UInt64, payload: Payload) {
        self.index = index
        self.term = term
        self.payload = payload
    }

    /// The state machine's command it holds; nil for an empty or membership entry.
    public var command: [UInt8]? {
        if case .command(let bytes) = payload { bytes } else { nil }
    }

    /// Bytes this entry counts against a message's size budget.
    var size: Int {
        switch payload {
        case .empty: return 16
        case .command(let bytes): return 16 + bytes.count
        case .membership(let membership): return 16 + 32 * (membership.voters.count + membership.learners.count)
        }
    }
}

/// Who takes part: voters elect and count toward commit; learners receive the log only, so a
/// new member can catch up before it counts toward a majority.
public struct Membership: Equatable, Sendable {
    public private(set) var voters: [NodeID]
    public private(set) var learners: [NodeID]

    public init(voters: [NodeID], learners: [NodeID] = []) {
        self.voters = Array(Set(voters)).sorted()
        self.learners = Array(Set(learners).subtracting(voters)).sorted()
    }

    public static let none = Membership(voters: [])

    public var members: [NodeID] { (voters + learners).sorted() }
    public var quorum: Int { voters.count / 2 + 1 }
    public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) }
    public func contains(_ id: NodeID) -> Bool { voters.contains(id) || learners.contains(id) }

    /// The one member whose role differs between the two memberships, or nil when none does;
    /// more than one differing member makes it an error (one server at a time, thesis §4.1).
    func singleChange(to other: Membership) -> (changed: NodeID?, count: Int) {
        let all = Set(members).union(other.members)
        let changed = all.filter { role(of: $0) != other.role(of: $0) }.sorted()
        return (changed.first, changed.count)
    }

    func role(of id: NodeID) -> Int { voters.contains(id) ? 2 : learners.contains(id) ? 1 : 0 }
}

/// What must be on stable storage before any message that depends on it is sent.
public struct HardState: Equatable, Sendable {
    public var term: UInt64
    public var vote: NodeID?
    public var commit: UInt64

    public init(term: UInt64 = 0, vote: NodeID? = nil, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// A state machine image that replaces every entry up to and including `index`.
public struct Snapshot: Equatable, Sendable {
    public var index: UInt64
    public var term: UInt64
    public var membership: Membership
    public var data: [UInt8]

    public init(index: UInt64, term: UInt64, membership: Membership, data: [UInt8]) {
        self.index = index
        self.term = term
        self.membership = membership
        self.data = data
    }
}

/// A node's role; a pre-candidate asks whether it could win before it raises its term.
public enum Role: String, Equatable, Sendable {
    case follower, preCandidate = "pre-candidate", candidate, leader
}

/// Why a request to the core was refused.
public enum RaftError: Error, Equatable, Sendable {
    /// Only the leader accepts proposals; `leader` is the last one this node heard from.
    case notLeader(leader: NodeID?)
    /// Leadership is being handed over; proposals wait for the new leader.
    case transferInProgress
    /// A membership change is already in the log and not yet committed, or the leader has not
    /// committed an entry of its own term yet (the fix to the single-server change bug).
    case membershipChangePending
    case invalidMembershipChange(String)
    case unknownPeer(NodeID)
}

extension RaftError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notLeader(let leader): return "not the leader (leader: \(leader ?? "unknown"))"
        case .transferInProgress: return "leadership transfer in progress"
        case .membershipChangePending: return "a membership change is pending"
        case .invalidMembershipChange(let why): return "invalid membership change: \(why)"
        case .unknownPeer(let peer): return "unknown peer \(peer)"
        }
    }
}
