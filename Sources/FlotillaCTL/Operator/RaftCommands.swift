import ArgumentParser
import FlotillaProto

/// `flotillactl operator raft list-peers`: every member as the leader sees it.
struct ListPeers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-peers",
        abstract: "List the coordinators: address, role, voter or learner, term, match index, last contact.",
        discussion: JSONOutput.help + " The document is a ClusterStatusResponse's coordinators.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the members as JSON.")
    var json = false

    func run() async throws {
        let status = try await ClusterSession.with(connection) { session in
            try await session.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
        }
        var members = Flotilla_V1_RaftMembershipResponse()
        members.members = status.coordinators
        Console.line(json ? try JSONOutput.line(members) : PeerTable.text(status.coordinators))
    }
}

/// `flotillactl operator raft transfer-leadership [--to NAME]`.
struct TransferLeadership: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer-leadership",
        abstract: "Hand leadership to another coordinator (default: the most caught-up voter).",
        discussion: "The leader stops taking proposals, brings the target up to date and tells it to "
            + "campaign at once (Raft's TimeoutNow). " + JSONOutput.help + " The document is a RaftTransferLeadershipResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Option(name: .long, help: "The coordinator to hand leadership to.")
    var to: String?

    @Flag(name: .long, help: "Print the RaftTransferLeadershipResponse as JSON.")
    var json = false

    func run() async throws {
        var request = Flotilla_V1_RaftTransferLeadershipRequest()
        request.to = to ?? ""
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_RaftTransferLeadershipResponse.self)
        }
        Console.line(json ? try JSONOutput.line(response) : "leader: \(response.leader) (took \(response.tookMs) ms)")
    }
}

/// `flotillactl operator raft add-peer NAME [--learner]`.
struct AddPeer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-peer",
        abstract: "Add a coordinator to the group, or promote a learner.",
        discussion: "The member must already be listed, with its address, in every coordinator's raft.peers, "
            + "and be running with raft.join: true. Add it as a learner first when it must catch up on a large "
            + "state, then add it again as a voter. " + JSONOutput.help + " The document is a RaftMembershipResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "The coordinator's name (its certificate's).")
    var name: String

    @Flag(name: .long, help: "Add it as a learner: it replicates but does not vote.")
    var learner = false

    @Flag(name: .long, help: "Print the RaftMembershipResponse as JSON.")
    var json = false

    func run() async throws {
        try await MembershipChange.send(learner ? .addLearner : .addVoter, name, connection, json: json)
    }
}

/// `flotillactl operator raft remove-peer NAME`.
struct RemovePeer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-peer",
        abstract: "Remove a coordinator from the group (a dead one, before replacing it).",
        discussion: JSONOutput.help + " The document is a RaftMembershipResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "The coordinator's name.")
    var name: String

    @Flag(name: .long, help: "Print the RaftMembershipResponse as JSON.")
    var json = false

    func run() async throws {
        try await MembershipChange.send(.remove, name, connection, json: json)
    }
}

enum MembershipChange {
    static func send(_ action: Flotilla_V1_RaftMembershipRequest.Action, _ name: String, _ connection: ConnectionOptions,
                     json: Bool) async throws {
        var request = Flotilla_V1_RaftMembershipRequest()
        request.action = action
        request.name = name
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_RaftMembershipResponse.self)
        }
        Console.line(json ? try JSONOutput.line(response) : PeerTable.text(response.members))
    }
}
