import FlotillaPKI
import FlotillaProto
import FlotillaRaft
import FlotillaRaftWire
import FlotillaTransport
import Logging
import Synchronization

/// Consensus messages as they arrive, checked and decoded, in arrival order, for the one
/// task that steps the Raft node. Called synchronously from the connections' event loops
/// (`FlotillaService.receiveInOrder`), so it only checks, decodes and queues. The task takes
/// everything queued at once (`batches`): messages that arrive together are stepped in one
/// turn of the node and answered by one Ready, one sync, instead of one each.
///
/// Refused (dropped, logged): a sender of another region, a `from` that is not the name in
/// the sender's certificate, a message for another member, a malformed message or snapshot
/// chunk. The transport already refused every role but coordinator and other clusters.
public final class RaftInbox: Sendable {
    /// Every message queued since the last batch, in arrival order; never empty. Ends once
    /// `finish()` was called and the queue is drained.
    public var batches: some AsyncSequence<[Message], Never> {
        arrivals.map { [self] in queued.withLock { queue in defer { queue = [] }; return queue } }
            .filter { !$0.isEmpty }
    }
    private let arrivals: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let queued = Mutex<[Message]>([])
    private let id: NodeID
    private let region: String
    private let logger: Logger
    /// Snapshots being reassembled, by connection.
    private let assemblers = Mutex<[UInt64: SnapshotAssembler]>([:])
    private let dropped = Atomic<UInt64>(0)

    /// Messages waiting for the node; past it new ones are dropped (Raft resends).
    public static let queueLimit = 4_096

    public init(id: NodeID, region: String, logger: Logger) {
        self.id = id
        self.region = region
        self.logger = logger
        (arrivals, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Messages refused or dropped since start (for /metrics).
    public var droppedCount: UInt64 { dropped.load(ordering: .relaxed) }

    /// Takes RaftMessage and RaftSnapshotChunk; false for any other kind.
    public func receive(_ request: InboundRequest) -> Bool {
        switch request.message {
        case let wire as Flotilla_V1_RaftMessage:
            guard admits(request.peer, from: wire.from, to: wire.to) else { return true }
            do {
                queue(try RaftWireCodec.decode(wire))
            } catch {
                refuse(request.peer, "\(error)")
            }
            return true
        case let chunk as Flotilla_V1_RaftSnapshotChunk:
            guard admits(request.peer, from: chunk.from, to: chunk.to) else { return true }
            let connection = request.peer.connectionID
            let result = assemblers.withLock { assemblers -> Result<Message?, RaftWireCodec.Invalid> in
                var assembler = assemblers.removeValue(forKey: connection) ?? SnapshotAssembler()
                do {
                    let whole = try assembler.add(chunk)
                    // Kept only while more chunks are expected.
                    if whole == nil { assemblers[connection] = assembler }
                    return .success(whole)
                } catch let error as RaftWireCodec.Invalid {
                    return .failure(error)
                } catch {
                    return .failure(RaftWireCodec.Invalid(reason: "\(error)"))
                }
            }
            switch result {
            case .success(let message?): queue(message)
            case .success(nil): break
            case .failure(let error): refuse(request.peer, "\(error)")
            }
            return true
        default:
            return false
        }
    }

    /// A connection closed: a snapshot it was sending will not complete.
    public func connectionClosed(_ connectionID: UInt64) {
        _ = assemblers.withLock { $0.removeValue(forKey: connectionID) }
    }

    public func finish() { continuation.finish() }

    private func admits(_ peer: PeerInfo, from: String, to: String) -> Bool {
        if (peer.identity.region ?? "") != region {
            refuse(peer, "a coordinator of region \"\(peer.identity.region ?? "")\" is not a member of region \"\(region)\"")
            return false
        }
        if from != peer.identity.name {
            refuse(peer, "from \"\(from)\" is not the sender's certificate name \"\(peer.identity.name)\"")
            return false
        }
        if to != id {
            refuse(peer, "addressed to \"\(to)\", this member is \"\(id)\"")
            return false
        }
        return true
    }

    private func queue(_ message: Message) {
        let queued = queued.withLock { queue in
            guard queue.count < Self.queueLimit else { return false }
            queue.append(message)
            return true
        }
        if queued { continuation.yield() } else { dropped.add(1, ordering: .relaxed) }
    }

    private func refuse(_ peer: PeerInfo, _ reason: String) {
        dropped.add(1, ordering: .relaxed)
        logger.notice("raft message refused", metadata: ["flotilla.peer": "\(peer.identity.uri)", "flotilla.reason": "\(reason)"])
    }
}
