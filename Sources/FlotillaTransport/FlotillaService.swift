import FlotillaPKI
import FlotillaWire
import NIOCore
import SwiftProtobuf

/// The peer of an accepted connection, as its certificate and Hello proved it.
public struct PeerInfo: Sendable, Hashable {
    public var identity: NodeIdentity
    public var remoteAddress: String
    public var version: UInt32
    /// Distinguishes two connections of the same peer (e.g. a reconnect).
    public var connectionID: UInt64
}

/// A request or one-way message that passed the handshake and the role check.
public struct InboundRequest: Sendable {
    public var peer: PeerInfo
    public var kind: MessageKind
    public var correlationID: UInt64
    public var message: any SwiftProtobuf.Message

    /// One-way messages (correlation id 0) get no reply; whatever the service returns is dropped.
    public var isOneWay: Bool { correlationID == 0 }

    public func message<M: SwiftProtobuf.Message>(as type: M.Type) -> M? { message as? M }
}

/// What a service answers a request with.
public enum ServiceReply: Sendable {
    case message(any SwiftProtobuf.Message)
    case failure(FlotillaError)
    /// Items are sent as stream frames; the stream ends with StreamEnd, or Error if it throws
    /// (a thrown FlotillaError keeps its code, anything else is INTERNAL).
    case stream(AsyncThrowingStream<any SwiftProtobuf.Message, any Error>)
}

/// What a server runs requests against: the coordinator, the router, a test double.
public protocol FlotillaService: Sendable {
    func handle(_ request: InboundRequest) async -> ServiceReply
    /// Called once when a handshaken connection closes, for any reason.
    func connectionClosed(_ peer: PeerInfo) async
    /// Takes a one-way message synchronously, on the connection's event loop, in the order
    /// it arrived; returns false to have it handled by `handle(_:)` in a task of its own
    /// instead (which does not keep order). Consensus traffic needs the order (PROTOCOL.md
    /// §4.5): the receiver queues it (bounded) and must not block here.
    func receiveInOrder(_ request: InboundRequest) -> Bool
}

extension FlotillaService {
    public func connectionClosed(_ peer: PeerInfo) async {}
    public func receiveInOrder(_ request: InboundRequest) -> Bool { false }
}
