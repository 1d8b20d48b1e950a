/// Linearizable reads by ReadIndex (thesis §6.4): the leader notes its commit index, confirms
/// with a round of heartbeats that it still leads, and the reader waits until that index is
/// applied. No log entry and no storage sync are needed.
struct PendingReads: Sendable {
    struct Request: Sendable {
        var context: UInt64
        var from: NodeID
        var index: UInt64
        var acks: Set<NodeID>
    }

    /// Confirmed in order: an acknowledgement of a later request confirms the earlier ones.
    var queue: [Request] = []
    /// Requests that arrived before this leader committed an entry of its term, when it does
    /// not yet know the commit index.
    var waiting: [(context: UInt64, from: NodeID)] = []

    var newestContext: UInt64 { queue.last?.context ?? 0 }
}

extension RaftNode {
    /// Asks for a read index; the answer comes as a `ReadState` in a later Ready, with the same
    /// context. A follower forwards the request to its leader.
    public mutating func readIndex(context: UInt64) throws(RaftError) {
        precondition(context != 0, "context 0 means none")
        if role == .leader {
            handleReadIndex(from: id, context: context)
        } else if let leader {
            var request = Message(kind: .readIndex, from: id, to: leader, term: term)
            request.context = context
            send(request)
        } else {
            throw .notLeader(leader: nil)
        }
    }

    mutating func handleReadIndex(from: NodeID, context: UInt64) {
        guard log.term(at: log.committed) == term else {
            reads.waiting.append((context, from))
            return
        }
        if membership.voters == [id] {
            answerRead(from: from, context: context, index: log.committed)
            return
        }
        reads.queue.append(.init(context: context, from: from, index: log.committed, acks: [id]))
        broadcastHeartbeat(context: context)
    }

    mutating func readAcknowledged(by member: NodeID, context: UInt64) {
        guard membership.isVoter(member), let position = reads.queue.firstIndex(where: { $0.context == context }) else { return }
        reads.queue[position].acks.insert(member)
        guard reads.queue[position].acks.count >= membership.quorum else { return }
        let confirmed = reads.queue[...position]
        reads.queue.removeFirst(position + 1)
        for request in confirmed {
            answerRead(from: request.from, context: request.context, index: request.index)
        }
    }

    mutating func answerRead(from: NodeID, context: UInt64, index: UInt64) {
        if from == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            var response = Message(kind: .readIndexResponse, from: id, to: from, term: term)
            response.index = index
            response.context = context
            send(response)
        }
    }

    mutating func releaseReadsWaitingForFirstCommit() {
        guard !reads.waiting.isEmpty, log.term(at: log.committed) == term else { return }
        let waiting = reads.waiting
        reads.waiting = []
        for request in waiting { handleReadIndex(from: request.from, context: request.context) }
    }
}
