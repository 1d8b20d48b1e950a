import NIOCore

/// Where a node's TLS material lives on disk and how strict and patient its handshakes are.
/// Files, not PEM strings, because `TLSContext.reload()` re-reads them after a rotation.
public struct TLSConfiguration: Sendable, Hashable {
    public enum ProtocolVersion: String, Sendable, Hashable, CaseIterable {
        case tls12 = "TLSv1.2"
        case tls13 = "TLSv1.3"
    }

    /// PEM: the node certificate first, then any intermediates.
    public var certificatePath: String
    /// PEM private key matching the certificate.
    public var privateKeyPath: String
    /// PEM cluster CA certificate(s): the only anchors a peer's chain may end in.
    public var trustRootsPath: String
    /// TLS 1.3 unless an operator explicitly allows 1.2.
    public var minimumVersion: ProtocolVersion
    /// From the channel becoming active to a verified peer; a silent or slow peer is cut off.
    public var handshakeTimeout: TimeAmount
    /// How long to wait for the peer's close_notify after sending ours.
    public var closeTimeout: TimeAmount

    public init(
        certificatePath: String, privateKeyPath: String, trustRootsPath: String,
        minimumVersion: ProtocolVersion = .tls13, handshakeTimeout: TimeAmount = .seconds(10),
        closeTimeout: TimeAmount = .seconds(5)
    ) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.trustRootsPath = trustRootsPath
        self.minimumVersion = minimumVersion
        self.handshakeTimeout = handshakeTimeout
        self.closeTimeout = closeTimeout
    }
}
