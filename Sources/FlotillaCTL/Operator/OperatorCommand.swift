import ArgumentParser

/// `flotillactl operator raft …`: the replicated coordinators (as `nomad operator raft`).
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Operate the coordinators' Raft group (admin certificate).",
        subcommands: [RaftCommand.self])
}

struct RaftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft",
        abstract: "List the coordinators, hand leadership over, add and remove members.",
        subcommands: [ListPeers.self, TransferLeadership.self, AddPeer.self, RemovePeer.self],
        defaultSubcommand: ListPeers.self)
}
