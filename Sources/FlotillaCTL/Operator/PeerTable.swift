import FlotillaProto

/// The coordinators of a region as a table: `status` and `operator raft list-peers`.
enum PeerTable {
    static func text(_ peers: [Flotilla_V1_CoordinatorInfo]) -> String {
        var table = Table("COORDINATOR", "ADDRESS", "ROLE", "VOTER", "TERM", "MATCH", "LAST-CONTACT")
        for peer in peers {
            table.append([
                peer.name, peer.address.isEmpty ? "-" : peer.address,
                peer.reachable || peer.state == .leader ? peer.state.name : "UNREACHABLE",
                peer.voter ? "yes" : "learner", "\(peer.term)", "\(peer.matchIndex)",
                peer.state == .leader && peer.lastContactMs == 0 ? "-" : "\(peer.lastContactMs) ms ago",
            ])
        }
        return table.text
    }
}
