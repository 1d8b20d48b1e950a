import FlotillaPKI
import FlotillaWire
import NIOCore

/// Limits and timeouts of one Flotilla connection (PROTOCOL.md, "Flow control & limits").
public struct TransportConfiguration: Sendable {
    /// TLS plus Hello/HelloAck must complete within this, or the peer is disconnected.
    public var handshakeTimeout: TimeAmount = .seconds(10)
    /// A client connection whose sent bytes the other end has not acknowledged for this
    /// long is aborted by the kernel (TCP_USER_TIMEOUT, Linux); nil leaves the system's
    /// retransmission limit, many minutes. Consensus links set it to the election timeout:
    /// a link cut by the network then fails and is reconnected, instead of idling in
    /// retransmission backoff for seconds after the network heals.
    public var unacknowledgedTimeout: TimeAmount?
    /// A server closes a connection on which nothing arrived for this long.
    public var idleTimeout: TimeAmount = .seconds(120)
    /// Unanswered requests a server accepts per connection; past it: RESOURCE_EXHAUSTED.
    public var maxInFlight: Int = 256
    /// Streams a server keeps open per connection (they do not count as in flight).
    public var maxOpenStreams: Int = 64
    /// A client fails a request with DEADLINE_EXCEEDED after this unless told otherwise.
    public var requestTimeout: TimeAmount = .seconds(30)
    public var wire = WireConfiguration()

    // Budgets that bound what one authenticated peer can make a server hold (§7.1).
    /// One-way messages a server executes at once per connection; past it, it stops
    /// reading from that peer until one finishes.
    public var maxOneWayInFlight: Int = 16
    /// Payload bytes of requests being served per connection; past it, requests are
    /// answered RESOURCE_EXHAUSTED without being decoded, and reading pauses.
    public var maxInFlightBytes: Int = 4 << 20
    /// Bytes queued for a peer that does not read its answers: past the high mark the
    /// server stops reading from it, and resumes below the low mark.
    public var writeBufferHighWater: Int = 1 << 20
    public var writeBufferLowWater: Int = 256 << 10
    /// Bytes all connections of a server may hold in partial frames larger than 64 KiB.
    public var maxPartialFrameBytes: Int = 64 << 20
    /// Connections a server accepts, in all (before the handshake) and per role (after it).
    public var maxConnections: Int = 12_000
    public var maxConnectionsPerRole: [NodeRole: Int] = [
        .worker: 10_000, .client: 1_000, .admin: 64, .router: 64, .coordinator: 16,
    ]

    public init() {}

    /// Clients keep a connection alive by pinging when they have sent nothing for this long.
    var keepAliveInterval: TimeAmount { .nanoseconds(idleTimeout.nanoseconds / 3) }
}
