import FlotillaPKI
import FlotillaTLS
import FlotillaTransport
import Logging
import SwiftProtobuf

/// The connection to one peer and the queue of frames for it. Frames go in the order they
/// were queued, over one connection at a time, so the peer receives them in order (Raft
/// tolerates loss, but reordering would make a pipelined follower reject appends).
///
/// Sending never blocks the caller: a full queue, a peer that cannot be reached or a broken
/// connection drops frames and calls `unreachable`, and the leader probes again.
final class RaftPeerLink: Sendable {
    let peer: RaftPeer
    private let frames: AsyncStream<any SwiftProtobuf.Message>.Continuation
    private let worker: Task<Void, Never>

    /// Frames waiting for the connection; past it new ones are dropped (a heartbeat or the next
    /// append resends what matters).
    static let queueLimit = 1_024

    init(peer: RaftPeer, tls: TLSContext, local: LocalNode, configuration: TransportConfiguration,
         logger: Logger, unreachable: @escaping @Sendable (String) -> Void) {
        self.peer = peer
        let (stream, continuation) = AsyncStream<any SwiftProtobuf.Message>.makeStream(
            bufferingPolicy: .bufferingOldest(Self.queueLimit))
        frames = continuation
        worker = Task {
            var sender = Sender(peer: peer, tls: tls, local: local, configuration: configuration, logger: logger)
            for await frame in stream {
                if await !sender.send(frame) { unreachable(peer.name) }
            }
            await sender.close()
        }
    }

    /// Queues `frame`; false when the queue is full and it was dropped.
    @discardableResult
    func enqueue(_ frame: any SwiftProtobuf.Message) -> Bool {
        if case .enqueued = frames.yield(frame) { return true }
        return false
    }

    func close() {
        frames.finish()
        worker.cancel()
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

        mutating func send(_ frame: any SwiftProtobuf.Message) async -> Bool {
            guard let connection = await connected() else { return false }
            do {
                try await connection.send(frame)
                return true
            } catch {
                logger.info("raft peer connection lost", metadata: ["flotilla.peer": "\(peer)", "error": "\(error)"])
                await connection.close()
                self.connection = nil
                return false
            }
        }

        private mutating func connected() async -> FlotillaConnection? {
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
