import FlotillaPKI
import Foundation

/// Where a test node's certificate, key and trusted CA lie on disk.
public struct NodeTLSFiles: Sendable, Hashable {
    public let identity: NodeIdentity
    public let directory: URL

    public var certificate: URL { directory.appendingPathComponent(IssuedCertificate.certificateFileName) }
    public var privateKey: URL { directory.appendingPathComponent(IssuedCertificate.privateKeyFileName) }
    public var caCertificate: URL { directory.appendingPathComponent(IssuedCertificate.caCertificateFileName) }

    public init(identity: NodeIdentity, directory: URL) {
        self.identity = identity
        self.directory = directory
    }
}
