import FlotillaPKI
import FlotillaTLS
import FlotillaTransport
import Logging
import SwiftProtobuf
import Synchronization

/// The connection to one peer and the queue of frames for it. Frames go in the order they
/// were queued, over one connection at a time, so the peer receives them in order (Raft
/// tolerates loss, but reordering would make a pipelined follower reject appends).
///
/// While the connection is up and nothing waits in the queue, the caller hands a frame
/// straight to the connection's event loop; otherwise it waits in the queue for the link's
/// task, which (re)connects. Either way nobody waits for a write to finish: a frame costs one
/// hand-off to the event loop, not a round trip there and back (which, one frame at a time,
/// was a third of a commit's time).
///
/// Sending never blocks the caller: a full queue, a peer that cannot be reached or a broken
/// connection drops frames and calls `unreachable`, and the leader probes again.
final class RaftPeerLink: Sendable {
    let peer: RaftPeer
    private let logger: Logger
    private let unreachable: @Sendable (String) -> Void
    private let frames: AsyncStream<any SwiftProtobuf.Message>.Continuation
    private let worker: Task<Void, Never>
    private let shared = Shared()

    /// What the caller and the link's task agree on: the connection frames may go to directly,
    /// and how many frames wait in the queue (a direct frame must not overtake them).
    private final class Shared: Sendable {
        struct State {
            var connection: FlotillaConnection?
            var queued = 0
        }
        let state = Mutex(State())
    }

    /// Frames waiting for the connection; past it new ones are dropped (a heartbeat or the next
    /// append resends what matters).
    static let queueLimit = 1_024

    init(peer: RaftPeer, tls: TLSContext, local: LocalNode, configuration: TransportConfiguration,
         logger: Logger, unreachable: @escaping @Sendable (String) -> Void) {
        self.peer = peer
        self.logger = logger
        self.unreachable = unreachable
        let (stream, continuation) = AsyncStream<any SwiftProtobuf.Message>.makeStream(
            bufferingPolicy: .bufferingOldest(Self.queueLimit))
        frames = continuation
        let shared = self.shared
        worker = Task {
            var sender = Sender(peer: peer, tls: tls, local: local, configuration: configuration, logger: logger)
            for await frame in stream {
                let connection = await sender.connected()
                if let connection {
                    connection.sendWithoutWaiting(frame, failed: Self.failed(peer, connection, logger, unreachable))
                } else {
                    unreachable(peer.name)
                }
                // Once the queue is empty, later frames may go straight to this connection.
                shared.state.withLock { state in
                    state.queued -= 1
                    state.connection = connection
                }
            }
            await sender.close()
        }
    }

    /// Queues `frame`; false when the queue is full and it was dropped.
    @discardableResult
    func enqueue(_ frame: any SwiftProtobuf.Message) -> Bool {
        let direct = shared.state.withLock { state -> FlotillaConnection? in
            if state.queued == 0, let connection = state.connection, connection.isActive { return connection }
            state.queued += 1
            return nil
        }
        if let direct {
            direct.sendWithoutWaiting(frame, failed: Self.failed(peer, direct, logger, unreachable))
            return true
        }
        if case .enqueued = frames.yield(frame) { return true }
        shared.state.withLock { $0.queued -= 1 }
        return false
    }

    func close() {
        frames.finish()
        worker.cancel()
        shared.state.withLock { $0.connection = nil }
    }

    /// A write that could not be made: the connection is closed (the next frame goes through
    /// the queue and reconnects) and the leader told, so it probes again.
    private static func failed(_ peer: RaftPeer, _ connection: FlotillaConnection, _ logger: Logger,
                               _ unreachable: @escaping @Sendable (String) -> Void) -> @Sendable (FlotillaError) -> Void {
        { error in
            logger.info("raft peer connection lost", metadata: ["flotilla.peer": "\(peer)", "error": "\(error)"])
            connection.channel.close(promise: nil)
            unreachable(peer.name)
        }
    }

    /// The connection as the queue's one task owns it.
    private struct Sender {
        let peer: RaftPeer
        let tls: TLSContext
        let local: LocalNode
        let configuration: TransportConfiguration
        let logger: Logger
        var connection: FlotillaConnection?
        /// After a failed connect, frames are dropped (not each retried) until this passes.
        var retryAt = ContinuousClock.now
        var failures = 0

        init(peer: RaftPeer, tls: TLSContext, local: LocalNode, configuration: TransportConfiguration, logger: Logger) {
            self.peer = peer
            self.tls = tls
            self.local = local
            self.configuration = configuration
            self.logger = logger
        }

        /// The live connection, or a new one; nil while the peer cannot be reached.
        mutating func connected() async -> FlotillaConnection? {
            if let connection, connection.isActive { return connection }
            connection = nil
            guard ContinuousClock.now >= retryAt else { return nil }
            do {
                let opened = try await FlotillaConnection.connect(
                    host: peer.address.host, port: peer.address.port, tls: tls, local: local,
                    expectedRole: .coordinator, configuration: configuration)
                if failures > 0 { logger.info("raft peer reachable again", metadata: ["flotilla.peer": "\(peer)"]) }
                failures = 0
                connection = opened
                return opened
            } catch {
                // 50 ms doubling to 1 s: a dead peer costs a connect attempt a second, and a
                // restarted one is reached again within a second.
                let delay = min(1_000, 50 << min(failures, 5))
                if failures == 0 {
                    logger.info("raft peer unreachable", metadata: ["flotilla.peer": "\(peer)", "error": "\(error)"])
                }
                failures += 1
                retryAt = ContinuousClock.now + .milliseconds(delay)
                return nil
            }
        }

        func close() async { await connection?.close() }
    }
}
