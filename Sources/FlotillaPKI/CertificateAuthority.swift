import COpenSSL
import Foundation

/// A cluster's certificate authority: a self-signed ECDSA P-256 certificate whose
/// organization (O) names the cluster, and its private key, both as PEM.
public struct CertificateAuthority: Sendable {
    public static let certificateFileName = "ca.pem"
    public static let privateKeyFileName = "ca-key.pem"

    public let certificatePEM: String
    public let privateKeyPEM: String
    public let cluster: String

    /// Checks that the key belongs to the certificate and that the certificate is a CA
    /// naming a valid cluster.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try X509Certificate.parse(pem: certificatePEM, what: "CA certificate")
        defer { X509_free(certificate) }
        let key = try PrivateKey.parse(pem: privateKeyPEM, what: "CA private key")
        defer { EVP_PKEY_free(key) }
        try X509Certificate.checkKey(key, matches: certificate, what: "CA")
        let info = try CertificateInfo(certificate: certificate)
        guard info.isCertificateAuthority else { throw PKIError.notACertificateAuthority(info.subject) }
        guard let cluster = info.organization, NodeIdentity.isValidComponent(cluster) else {
            throw PKIError.missingCluster
        }
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.cluster = cluster
    }

    private init(verifiedCertificatePEM: String, privateKeyPEM: String, cluster: String) {
        self.certificatePEM = verifiedCertificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.cluster = cluster
    }

    /// A new self-signed CA "Flotilla CA <cluster>", valid from five minutes ago (clock skew)
    /// for `validityDays`.
    public static func generate(cluster: String, validityDays: Int = 3650) throws -> CertificateAuthority {
        guard NodeIdentity.isValidComponent(cluster) else {
            throw PKIError.invalidName("invalid cluster name '\(cluster)' (1-128 letters, digits, '-', '_', '.')")
        }
        guard validityDays > 0 else { throw PKIError.invalidValidity("validity must be at least one day, not \(validityDays)") }
        let now = Date()
        let template = CertificateTemplate(
            subject: [.init(field: "CN", value: "Flotilla CA \(cluster)"), .init(field: "O", value: cluster)],
            notBefore: now - 300,
            notAfter: now + Double(validityDays) * 86_400,
            extensions: [
                .init(nid: NID_basic_constraints, value: "critical,CA:TRUE"),
                .init(nid: NID_key_usage, value: "critical,keyCertSign,cRLSign"),
                .init(nid: NID_subject_key_identifier, value: "hash"),
            ])
        let key = try PrivateKey.generateP256()
        defer { EVP_PKEY_free(key) }
        let certificate = try CertificateSigner.sign(template, subjectKey: key, issuer: nil, signingKey: key)
        defer { X509_free(certificate) }
        return CertificateAuthority(
            verifiedCertificatePEM: try X509Certificate.pem(certificate), privateKeyPEM: try PrivateKey.pem(key),
            cluster: cluster)
    }

    /// Reads `ca.pem` and `ca-key.pem` from `directory`.
    public static func load(directory: URL) throws -> CertificateAuthority {
        try CertificateAuthority(
            certificatePEM: PEMFile.read(directory.appendingPathComponent(certificateFileName)),
            privateKeyPEM: PEMFile.read(directory.appendingPathComponent(privateKeyFileName)))
    }

    /// Writes `ca.pem` (0644) and `ca-key.pem` (0600) into `directory`, creating it if needed.
    /// Replacing a CA orphans every certificate it signed, so an existing one is kept unless
    /// `overwrite` is true.
    public func write(to directory: URL, overwrite: Bool = false) throws {
        try PEMFile.write(
            [
                .init(name: Self.certificateFileName, contents: certificatePEM, mode: PEMFile.certificateMode),
                .init(name: Self.privateKeyFileName, contents: privateKeyPEM, mode: PEMFile.privateKeyMode),
            ], to: directory, overwrite: overwrite)
    }

    /// Signs a node certificate for `identity`: CN = name, URI SAN = identity URI, and the given
    /// DNS names and IP addresses. Servers (every role but client) default to "localhost" and
    /// 127.0.0.1 when given neither, so a local cluster works out of the box.
    public func issue(
        identity: NodeIdentity, dnsNames: [String] = [], ipAddresses: [String] = [],
        notBefore: Date = Date() - 300, notAfter: Date = Date() + 365 * 86_400
    ) throws -> IssuedCertificate {
        let defaultsApply = identity.role != .client && dnsNames.isEmpty && ipAddresses.isEmpty
        let names = try SubjectAlternativeNames(
            identity: identity, dnsNames: defaultsApply ? ["localhost"] : dnsNames,
            ipAddresses: defaultsApply ? ["127.0.0.1"] : ipAddresses)
        let template = CertificateTemplate(
            subject: [.init(field: "CN", value: identity.name), .init(field: "O", value: identity.cluster)],
            notBefore: notBefore, notAfter: notAfter,
            extensions: [
                .init(nid: NID_basic_constraints, value: "critical,CA:FALSE"),
                .init(nid: NID_key_usage, value: "critical,digitalSignature"),
                .init(nid: NID_ext_key_usage, value: "serverAuth,clientAuth"),
                .init(nid: NID_subject_key_identifier, value: "hash"),
                .init(nid: NID_authority_key_identifier, value: "keyid:always"),
                .init(nid: NID_subject_alt_name, value: names.configurationValue),
            ])
        let caCertificate = try X509Certificate.parse(pem: certificatePEM, what: "CA certificate")
        defer { X509_free(caCertificate) }
        let caKey = try PrivateKey.parse(pem: privateKeyPEM, what: "CA private key")
        defer { EVP_PKEY_free(caKey) }
        let key = try PrivateKey.generateP256()
        defer { EVP_PKEY_free(key) }
        let certificate = try CertificateSigner.sign(template, subjectKey: key, issuer: caCertificate, signingKey: caKey)
        defer { X509_free(certificate) }
        return IssuedCertificate(
            certificatePEM: try X509Certificate.pem(certificate), privateKeyPEM: try PrivateKey.pem(key),
            identity: identity)
    }

    /// Issues a certificate valid for `validityDays` from five minutes ago.
    public func issue(
        identity: NodeIdentity, dnsNames: [String] = [], ipAddresses: [String] = [], validityDays: Int
    ) throws -> IssuedCertificate {
        guard validityDays > 0 else { throw PKIError.invalidValidity("validity must be at least one day, not \(validityDays)") }
        let now = Date()
        return try issue(
            identity: identity, dnsNames: dnsNames, ipAddresses: ipAddresses, notBefore: now - 300,
            notAfter: now + Double(validityDays) * 86_400)
    }
}
