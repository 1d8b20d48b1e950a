import FlotillaPKI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cluster CA and node certificates for tests, all under one directory: the CA in `ca/`,
/// each node in its own directory holding cert.pem, key.pem and ca.pem.
public struct TestPKI: Sendable {
    public let directory: URL
    public let authority: CertificateAuthority

    public var cluster: String { authority.cluster }
    public var caDirectory: URL { directory.appendingPathComponent("ca") }
    public var caCertificate: URL { caDirectory.appendingPathComponent(CertificateAuthority.certificateFileName) }

    /// Creates a CA for `cluster` and writes it to `directory/ca`.
    public init(directory: URL, cluster: String = "test") throws {
        self.directory = directory
        authority = try CertificateAuthority.generate(cluster: cluster)
        try authority.write(to: directory.appendingPathComponent("ca"))
    }

    /// A second CA with its own key, unrelated to any other, in a fresh directory under
    /// `directory`: its certificates must not be trusted by a peer that trusts the first.
    public static func otherCA(in directory: URL, cluster: String = "test") throws -> TestPKI {
        try TestPKI(directory: directory.appendingPathComponent("other-ca-\(UUID().uuidString)"), cluster: cluster)
    }

    /// A valid certificate for ROLE/NAME in this cluster (a client's bound to `tenant` if
    /// given). Asking twice for the same node returns the same files, so harnesses may
    /// call this freely.
    public func node(_ role: NodeRole, _ name: String, region: String? = nil, tenant: String? = nil) throws -> NodeTLSFiles {
        let identity = NodeIdentity(cluster: cluster, role: role, name: name, region: region, tenant: tenant)
        return try files(for: identity, label: label(identity)) { try authority.issue(identity: identity) }
    }

    /// A certificate for ROLE/NAME that expired a day ago (valid for one day before that).
    public func expired(_ role: NodeRole, _ name: String, region: String? = nil) throws -> NodeTLSFiles {
        let identity = NodeIdentity(cluster: cluster, role: role, name: name, region: region)
        let now = Date()
        return try files(for: identity, label: label(identity) + "-expired") {
            try authority.issue(identity: identity, notBefore: now - 2 * 86_400, notAfter: now - 86_400)
        }
    }

    /// A certificate from this CA for any identity, e.g. one naming another cluster.
    public func node(
        identity: NodeIdentity, label: String, dnsNames: [String] = [], ipAddresses: [String] = []
    ) throws -> NodeTLSFiles {
        try files(for: identity, label: label) {
            try authority.issue(identity: identity, dnsNames: dnsNames, ipAddresses: ipAddresses)
        }
    }

    private func label(_ identity: NodeIdentity) -> String {
        [identity.role.rawValue, identity.name, identity.region, identity.tenant.map { "tenant-\($0)" }].compactMap { $0 }.joined(separator: "-")
    }

    /// Writes into a private staging directory and renames it into place, so concurrent
    /// callers never see half-written files; the first to finish wins and the others
    /// use its files.
    private func files(
        for identity: NodeIdentity, label: String, issue: () throws -> IssuedCertificate
    ) throws -> NodeTLSFiles {
        let target = directory.appendingPathComponent(label)
        let result = NodeTLSFiles(identity: identity, directory: target)
        if FileManager.default.fileExists(atPath: result.certificate.path) { return result }
        let staging = directory.appendingPathComponent(".staging-\(UUID().uuidString)")
        try issue().write(to: staging, caCertificatePEM: authority.certificatePEM)
        if rename(staging.path, target.path) != 0 {
            let reason = errno
            try? FileManager.default.removeItem(at: staging)
            guard reason == ENOTEMPTY || reason == EEXIST else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
            }
        }
        return result
    }
}
