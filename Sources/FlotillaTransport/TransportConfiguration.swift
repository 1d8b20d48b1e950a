import FlotillaWire
import NIOCore

/// Limits and timeouts of one Flotilla connection (PROTOCOL.md, "Flow control & limits").
public struct TransportConfiguration: Sendable {
    /// TLS plus Hello/HelloAck must complete within this, or the peer is disconnected.
    public var handshakeTimeout: TimeAmount = .seconds(10)
    /// A server closes a connection on which nothing arrived for this long.
    public var idleTimeout: TimeAmount = .seconds(120)
    /// Unanswered requests a server accepts per connection; past it: RESOURCE_EXHAUSTED.
    public var maxInFlight: Int = 256
    /// Streams a server keeps open per connection (they do not count as in flight).
    public var maxOpenStreams: Int = 64
    /// A client fails a request with DEADLINE_EXCEEDED after this unless told otherwise.
    public var requestTimeout: TimeAmount = .seconds(30)
    public var wire = WireConfiguration()

    public init() {}

    /// Clients keep a connection alive by pinging when they have sent nothing for this long.
    var keepAliveInterval: TimeAmount { .nanoseconds(idleTimeout.nanoseconds / 3) }
}
