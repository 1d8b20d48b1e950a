import Foundation

/// A node's certificate and private key as signed by its cluster's CA.
public struct IssuedCertificate: Sendable {
    public static let certificateFileName = "cert.pem"
    public static let privateKeyFileName = "key.pem"
    public static let caCertificateFileName = "ca.pem"

    public let certificatePEM: String
    public let privateKeyPEM: String
    public let identity: NodeIdentity

    public init(certificatePEM: String, privateKeyPEM: String, identity: NodeIdentity) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.identity = identity
    }

    /// Writes `cert.pem` (0644), `key.pem` (0600 from the moment it exists) and the CA's
    /// `ca.pem` (0644) into `directory`, creating it if needed. Existing files are kept
    /// unless `overwrite` is true.
    public func write(to directory: URL, caCertificatePEM: String, overwrite: Bool = false) throws {
        try PEMFile.write(
            [
                .init(name: Self.certificateFileName, contents: certificatePEM, mode: PEMFile.certificateMode),
                .init(name: Self.privateKeyFileName, contents: privateKeyPEM, mode: PEMFile.privateKeyMode),
                .init(name: Self.caCertificateFileName, contents: caCertificatePEM, mode: PEMFile.certificateMode),
            ], to: directory, overwrite: overwrite)
    }
}
