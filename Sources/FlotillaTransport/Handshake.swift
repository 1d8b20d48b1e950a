import FlotillaPKI
import FlotillaProto

/// This node as it introduces itself in Hello / HelloAck.
public struct LocalNode: Sendable, Hashable {
    public var identity: NodeIdentity
    public var software: String

    public init(identity: NodeIdentity, software: String = "flotilla/\(ProtocolVersion.software)") {
        self.identity = identity
        self.software = software
    }
}

/// The protocol versions this build speaks.
public enum ProtocolVersion {
    public static let minimum: UInt32 = 1
    public static let maximum: UInt32 = 1
    public static let software = "0.1.0"
}

/// The server's side of the handshake as a pure decision (PROTOCOL.md, "Handshake").
public struct HandshakeNegotiation: Sendable {
    public var local: LocalNode
    public var supported: ClosedRange<UInt32>
    public var configuration: TransportConfiguration

    public init(local: LocalNode, supported: ClosedRange<UInt32> = ProtocolVersion.minimum...ProtocolVersion.maximum, configuration: TransportConfiguration) {
        self.local = local
        self.supported = supported
        self.configuration = configuration
    }

    public enum Outcome: Sendable {
        case accept(Flotilla_V1_HelloAck, peer: NodeIdentity, version: UInt32)
        case reject(Flotilla_V1_Reject)
    }

    /// Decides on a client's Hello, given the identity its certificate proved.
    public func answer(_ hello: Flotilla_V1_Hello, certified: NodeIdentity?) -> Outcome {
        guard let certified else {
            return .reject(reject(.unauthenticated, "the client certificate carries no Flotilla identity (URI SAN flotilla://CLUSTER/ROLE/NAME)"))
        }
        guard let claimed = NodeRole(hello.role), claimed == certified.role, hello.name == certified.name,
            hello.cluster == certified.cluster
        else {
            return .reject(reject(.unauthenticated, "Hello claims \(hello.cluster)/\(hello.role)/\(hello.name) but the certificate says \(certified.uri)"))
        }
        guard certified.cluster == local.identity.cluster else {
            return .reject(reject(.permissionDenied, "cluster '\(certified.cluster)' is not this cluster ('\(local.identity.cluster)')"))
        }
        let low = max(hello.minVersion, supported.lowerBound)
        let high = min(hello.maxVersion, supported.upperBound)
        guard hello.minVersion <= hello.maxVersion, low <= high else {
            return .reject(reject(.unsupportedVersion, "protocol versions \(hello.minVersion)...\(hello.maxVersion) not supported; this node speaks \(supported.lowerBound)...\(supported.upperBound)"))
        }
        var ack = Flotilla_V1_HelloAck()
        ack.version = high
        ack.role = local.identity.role.proto
        ack.name = local.identity.name
        ack.cluster = local.identity.cluster
        ack.region = local.identity.region ?? ""
        ack.software = local.software
        ack.maxInFlight = UInt32(clamping: configuration.maxInFlight)
        ack.maxFrameBytes = UInt32(clamping: configuration.wire.maxFrameBytes)
        ack.idleTimeoutMs = UInt32(clamping: configuration.idleTimeout.nanoseconds / 1_000_000)
        return .accept(ack, peer: certified, version: high)
    }

    func reject(_ code: Flotilla_V1_ErrorCode, _ message: String) -> Flotilla_V1_Reject {
        var reject = Flotilla_V1_Reject()
        reject.code = code
        reject.message = message
        reject.minVersion = supported.lowerBound
        reject.maxVersion = supported.upperBound
        return reject
    }

    /// The client's Hello for this node.
    public static func hello(from local: LocalNode, supported: ClosedRange<UInt32> = ProtocolVersion.minimum...ProtocolVersion.maximum) -> Flotilla_V1_Hello {
        var hello = Flotilla_V1_Hello()
        hello.minVersion = supported.lowerBound
        hello.maxVersion = supported.upperBound
        hello.role = local.identity.role.proto
        hello.name = local.identity.name
        hello.cluster = local.identity.cluster
        hello.region = local.identity.region ?? ""
        hello.software = local.software
        return hello
    }

    /// The client's check of the server: its certificate must match its HelloAck and the expected role.
    public static func verifyServer(_ ack: Flotilla_V1_HelloAck, certified: NodeIdentity?, expectedRole: NodeRole?) -> FlotillaError? {
        guard let certified else {
            return FlotillaError(.unauthenticated, "the server certificate carries no Flotilla identity")
        }
        guard NodeRole(ack.role) == certified.role, ack.name == certified.name, ack.cluster == certified.cluster else {
            return FlotillaError(.unauthenticated, "HelloAck claims \(ack.cluster)/\(ack.role)/\(ack.name) but the server certificate says \(certified.uri)")
        }
        if let expectedRole, expectedRole != certified.role {
            return FlotillaError(.unauthenticated, "expected a \(expectedRole.rawValue), reached \(certified.uri)")
        }
        // The server must choose a version this client offered (PROTOCOL.md §6.3).
        guard (ProtocolVersion.minimum...ProtocolVersion.maximum).contains(ack.version) else {
            return FlotillaError(.unsupportedVersion,
                                 "the server chose protocol version \(ack.version); this client speaks \(ProtocolVersion.minimum)...\(ProtocolVersion.maximum)")
        }
        return nil
    }
}
