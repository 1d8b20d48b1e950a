/// Log replication (§5.3), commitment (§5.4.2) and snapshots (§7).
extension RaftNode {
    // MARK: - Leader

    @discardableResult
    mutating func appendAsLeader(_ payload: Entry.Payload) -> (index: UInt64, term: UInt64) {
        appendAsLeader([payload])
        return (log.lastIndex, term)
    }

    mutating func appendAsLeader(_ payloads: [Entry.Payload]) {
        guard !payloads.isEmpty else { return }
        var index = log.lastIndex
        let entries = payloads.map { payload -> Entry in
            index += 1
            return Entry(index: index, term: term, payload: payload)
        }
        log.append(entries)
        noteMembershipEntries(entries)
        _ = progress[id]?.acknowledged(through: log.lastIndex)
        if !maybeCommit() { broadcastAppend() }
    }

    /// Sends each follower what it lacks, as far as its progress state allows.
    mutating func broadcastAppend() {
        for member in progress.keys.sorted() where member != id {
            sendAppend(to: member)
        }
    }

    /// Sends one append (or a snapshot, when the entries it needs are compacted away).
    /// `evenIfEmpty` false sends only when there are entries: used to fill the pipeline.
    @discardableResult
    mutating func sendAppend(to member: NodeID, evenIfEmpty: Bool = true) -> Bool {
        guard var peer = progress[member], !peer.isPaused(maxInflight: options.maxInflight) else { return false }
        let prevIndex = peer.next - 1
        guard let prevTerm = log.term(at: prevIndex),
              let entries = log.entries(from: peer.next, maxBytes: options.maxBytesPerMessage,
                                        maxCount: options.maxEntriesPerMessage)
        else {
            sendSnapshot(to: member)
            return false
        }
        if entries.isEmpty, !evenIfEmpty { return false }
        var message = Message(kind: .append, from: id, to: member, term: term)
        message.index = prevIndex
        message.logTerm = prevTerm
        message.entries = entries
        message.commit = log.committed
        peer.sent(through: entries.last?.index ?? prevIndex)
        progress[member] = peer
        send(message)
        return true
    }

    mutating func sendSnapshot(to member: NodeID) {
        guard var peer = progress[member] else { return }
        var message = Message(kind: .snapshot, from: id, to: member, term: term)
        message.snapshot = log.snapshot
        peer.becomeSnapshot(at: log.snapshotIndex)
        progress[member] = peer
        send(message)
    }

    mutating func broadcastHeartbeat(context: UInt64) {
        for member in progress.keys.sorted() where member != id {
            var message = Message(kind: .heartbeat, from: id, to: member, term: term)
            // Never tell a follower to commit past what it is known to hold: its log beyond
            // `match` may still disagree with this leader's.
            message.commit = min(progress[member]!.match, log.committed)
            message.context = context
            send(message)
        }
    }

    /// Commits the highest index a quorum of voters holds, if it is of this term (§5.4.2: an
    /// older term's entries commit only indirectly; the Figure 8 case).
    @discardableResult
    mutating func maybeCommit() -> Bool {
        let matches = membership.voters.map { progress[$0]?.match ?? 0 }.sorted(by: >)
        guard !matches.isEmpty else { return false }
        let candidate = matches[membership.quorum - 1]
        guard candidate > log.committed, log.term(at: candidate) == term else { return false }
        log.commit(to: candidate)
        // Followers hear of the commit before anything else, even when it makes this leader
        // step down (a committed membership that removes it).
        broadcastAppend()
        committedAdvanced()
        return true
    }

    mutating func handleAppendResponse(_ response: Message) {
        guard var peer = progress[response.from] else { return }
        peer.recentActive = true
        if response.reject {
            var hint = response.rejectHint
            if response.logTerm > 0 {
                hint = log.lastIndex(atOrBelow: hint, withTermAtMost: response.logTerm)
            }
            if peer.rejected(response.index, hint: hint) {
                if peer.state == .replicate { peer.becomeProbe() }
                progress[response.from] = peer
                sendAppend(to: response.from)
            } else {
                progress[response.from] = peer
            }
            return
        }
        let wasPaused = peer.isPaused(maxInflight: options.maxInflight)
        guard peer.acknowledged(through: response.index) else {
            progress[response.from] = peer
            return
        }
        switch peer.state {
        case .probe:
            peer.becomeReplicate()
        case .snapshot where peer.match >= peer.pendingSnapshot:
            peer.becomeProbe()
            peer.becomeReplicate()
        case .snapshot, .replicate:
            break
        }
        progress[response.from] = peer
        if !maybeCommit(), wasPaused {
            sendAppend(to: response.from)
        }
        guard role == .leader else { return }
        while sendAppend(to: response.from, evenIfEmpty: false) {}
        if response.from == transferee, progress[response.from]?.match == log.lastIndex {
            send(Message(kind: .timeoutNow, from: id, to: response.from, term: term))
        }
    }

    mutating func handleHeartbeatResponse(_ response: Message) {
        guard var peer = progress[response.from] else { return }
        peer.recentActive = true
        peer.probeSent = false
        // Appends in flight may all have been lost; a live follower frees one slot, so the next
        // append finds out (by its rejection) where the follower really is.
        if peer.state == .replicate, peer.inflight.count >= options.maxInflight { peer.inflight.removeFirst() }
        // A snapshot that got no answer in an election timeout was lost: probe again.
        if peer.state == .snapshot, peer.snapshotTicks >= options.electionTicks { peer.becomeProbe() }
        progress[response.from] = peer
        if peer.match < log.lastIndex { sendAppend(to: response.from) }
        if response.context != 0 { readAcknowledged(by: response.from, context: response.context) }
    }

    // MARK: - Follower

    mutating func handleLeaderMessage(_ message: Message) {
        if role != .follower || leader != message.from {
            becomeFollower(term: term, leader: message.from)
        }
        electionElapsed = 0
        switch message.kind {
        case .append: handleAppend(message)
        case .heartbeat: handleHeartbeat(message)
        case .snapshot: handleSnapshot(message)
        default: break
        }
    }

    mutating func handleAppend(_ message: Message) {
        var response = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        if message.index < log.committed {
            // Everything up to our commit index is already here and agreed.
            response.index = log.committed
        } else if let lastNew = log.maybeAppend(prevIndex: message.index, prevTerm: message.logTerm,
                                                commit: message.commit, incoming: message.entries) {
            noteMembershipEntries(message.entries)
            response.index = lastNew
            committedAdvanced()
        } else {
            response.reject = true
            response.index = message.index
            let hint = log.lastIndex(atOrBelow: message.index, withTermAtMost: message.logTerm)
            response.rejectHint = hint
            response.logTerm = log.term(at: hint) ?? 0
        }
        send(response)
    }

    mutating func handleHeartbeat(_ message: Message) {
        log.commit(to: min(message.commit, log.lastIndex))
        committedAdvanced()
        var response = Message(kind: .heartbeatResponse, from: id, to: message.from, term: term)
        response.context = message.context
        send(response)
    }

    mutating func handleSnapshot(_ message: Message) {
        guard let snapshot = message.snapshot else { return }
        var response = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        if snapshot.index <= log.committed {
            response.index = log.committed
        } else if log.matches(index: snapshot.index, term: snapshot.term) {
            // This log already holds the snapshot's entries: commit them instead of restoring.
            log.commit(to: snapshot.index)
            committedAdvanced()
            response.index = snapshot.index
        } else {
            log.restore(snapshot)
            membership = snapshot.membership
            membershipIndex = snapshot.index
            response.index = snapshot.index
        }
        send(response)
    }
}
