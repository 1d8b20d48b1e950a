import Foundation

/// Why a certificate operation failed. `openSSL` carries the drained OpenSSL error queue
/// (empty when the failure was ours, not the library's).
public enum PKIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Text that should have held a PEM certificate or key did not parse.
    case invalidPEM(what: String, openSSL: String)
    /// Bytes that should have held a DER certificate did not parse.
    case invalidDER(what: String, openSSL: String)
    /// OpenSSL failed while generating a key, building or signing a certificate.
    case openSSL(operation: String, openSSL: String)
    /// The private key does not belong to the certificate.
    case keyMismatch(what: String)
    /// A certificate loaded as a CA is not one.
    case notACertificateAuthority(String)
    /// A CA certificate has no organization naming its cluster.
    case missingCluster
    /// An identity, DNS name or IP address that cannot go into a certificate.
    case invalidName(String)
    /// notAfter is not after notBefore, or a validity period is not positive.
    case invalidValidity(String)
    /// A file that is needed does not exist.
    case fileNotFound(path: String)
    /// A file exists and overwriting it was not asked for.
    case fileExists(path: String)
    /// Reading or writing a file failed at the operating system.
    case fileSystem(path: String, reason: String)
    /// A certificate did not verify against a CA.
    case verificationFailed(reason: String)

    public var description: String {
        switch self {
        case .invalidPEM(let what, let openSSL):
            return "invalid PEM \(what)" + Self.suffix(openSSL)
        case .invalidDER(let what, let openSSL):
            return "invalid DER \(what)" + Self.suffix(openSSL)
        case .openSSL(let operation, let openSSL):
            return "\(operation) failed" + Self.suffix(openSSL)
        case .keyMismatch(let what):
            return "the private key does not match the \(what) certificate"
        case .notACertificateAuthority(let subject):
            return "certificate '\(subject)' is not a certificate authority (basicConstraints CA:TRUE missing)"
        case .missingCluster:
            return "CA certificate has no organization (O) naming its cluster"
        case .invalidName(let reason):
            return reason
        case .invalidValidity(let reason):
            return "invalid validity: \(reason)"
        case .fileNotFound(let path):
            return "\(path) does not exist"
        case .fileExists(let path):
            return "\(path) already exists"
        case .fileSystem(let path, let reason):
            return "\(path): \(reason)"
        case .verificationFailed(let reason):
            return "certificate verification failed: \(reason)"
        }
    }

    private static func suffix(_ openSSL: String) -> String {
        openSSL.isEmpty ? "" : " (\(openSSL))"
    }
}
