import FlotillaRaft

/// The one-line forms scenario scripts and failing simulations print.
extension Entry {
    public var scriptDescription: String {
        switch payload {
        case .empty: return "\(index)/\(term) empty"
        case .command(let bytes): return "\(index)/\(term) cmd:\(String(decoding: bytes, as: UTF8.self))"
        case .membership(let membership): return "\(index)/\(term) membership \(membership.scriptDescription)"
        }
    }
}

extension Membership {
    public var scriptDescription: String {
        var text = "voters=" + voters.joined(separator: ",")
        if !learners.isEmpty { text += " learners=" + learners.joined(separator: ",") }
        return text
    }
}

extension Message {
    public var scriptDescription: String {
        var text = "\(from)->\(to) \(kind.rawValue) term=\(term)"
        switch kind {
        case .preVote, .vote:
            text += " last=\(index)/\(logTerm)"
            if transfer { text += " transfer" }
        case .preVoteResponse, .voteResponse:
            text += reject ? " rejected" : " granted"
        case .append:
            text += " prev=\(index)/\(logTerm) commit=\(commit)"
            if !entries.isEmpty { text += " [" + entries.map(\.scriptDescription).joined(separator: ", ") + "]" }
        case .appendResponse:
            text += reject ? " rejected index=\(index) hint=\(rejectHint)/\(logTerm)" : " index=\(index)"
        case .heartbeat:
            text += " commit=\(commit)"
            if context != 0 { text += " ctx=\(context)" }
        case .heartbeatResponse:
            if context != 0 { text += " ctx=\(context)" }
        case .snapshot:
            if let snapshot { text += " index=\(snapshot.index)/\(snapshot.term) \(snapshot.membership.scriptDescription)" }
        case .timeoutNow:
            break
        case .readIndex:
            text += " ctx=\(context)"
        case .readIndexResponse:
            text += " index=\(index) ctx=\(context)"
        }
        return text
    }
}

extension HardState {
    public var scriptDescription: String { "term=\(term) vote=\(vote ?? "-") commit=\(commit)" }
}

extension RaftStatus {
    public var scriptDescription: String {
        var lines = ["\(id): \(role.rawValue) term=\(term) leader=\(leader ?? "-") commit=\(commit) applied=\(applied) last=\(lastIndex) \(membership.scriptDescription)"]
        if snapshotIndex > 0 { lines[0] += " snapshot=\(snapshotIndex)" }
        if let transferee { lines[0] += " transferring-to=\(transferee)" }
        for member in progress.keys.sorted() where member != id {
            let peer = progress[member]!
            lines.append("  \(member): match=\(peer.match) next=\(peer.next) \(peer.state.rawValue)\(peer.isLearner ? " learner" : "")")
        }
        return lines.joined(separator: "\n")
    }
}
