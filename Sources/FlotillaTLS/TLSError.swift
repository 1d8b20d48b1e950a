/// The file a `TLSContext` failed to load.
public enum TLSMaterial: String, Sendable, Hashable {
    case certificateChain = "certificate chain"
    case privateKey = "private key"
    case trustRoots = "trust roots"
}

/// Why a TLS context or connection failed. `openSSL` is OpenSSL's drained error stack,
/// oldest first, so an operator sees the library's own reason (e.g. "certificate has expired").
public enum TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A certificate, key or CA file could not be read or parsed.
    case cannotLoad(TLSMaterial, path: String, openSSL: [String])
    /// The private key is not the certificate's.
    case keyMismatch(certificatePath: String, privateKeyPath: String, openSSL: [String])
    /// OpenSSL refused a setting or an allocation.
    case setupFailed(String, openSSL: [String])
    /// Protocol error, rejected or missing peer certificate, or EOF mid-handshake.
    case handshakeFailed(openSSL: [String])
    /// The peer did not complete the handshake within `TLSConfiguration.handshakeTimeout`.
    case handshakeTimeout
    /// A record could not be decrypted or the peer sent an alert.
    case readFailed(openSSL: [String])
    case writeFailed(openSSL: [String])
    /// The peer closed TCP without close_notify: what was received may be truncated.
    case uncleanShutdown
    /// The process's own certificate is not the identity it must present (role, cluster,
    /// name), is out of its validity period, or is not signed by the configured CA.
    case wrongIdentity(certificatePath: String, reason: String)

    public var description: String {
        switch self {
        case .cannotLoad(let material, let path, let openSSL):
            return "cannot load the TLS \(material.rawValue) from \(path)\(Self.stack(openSSL))"
        case .keyMismatch(let certificatePath, let privateKeyPath, let openSSL):
            return "the private key \(privateKeyPath) does not match the certificate \(certificatePath)\(Self.stack(openSSL))"
        case .setupFailed(let what, let openSSL):
            return "TLS setup failed: \(what)\(Self.stack(openSSL))"
        case .handshakeFailed(let openSSL):
            return "TLS handshake failed\(Self.stack(openSSL))"
        case .handshakeTimeout:
            return "TLS handshake timed out"
        case .readFailed(let openSSL):
            return "TLS read failed\(Self.stack(openSSL))"
        case .writeFailed(let openSSL):
            return "TLS write failed\(Self.stack(openSSL))"
        case .uncleanShutdown:
            return "the peer closed the connection without a TLS close_notify"
        case .wrongIdentity(let path, let reason):
            return "the certificate \(path) cannot be this node's: \(reason)"
        }
    }

    private static func stack(_ lines: [String]) -> String {
        lines.isEmpty ? "" : ": " + lines.joined(separator: "; ")
    }
}
