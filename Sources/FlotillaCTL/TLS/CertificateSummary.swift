import FlotillaPKI
import Foundation

/// The fields `tls cert show` reports, as a table or as JSON.
struct CertificateSummary: Encodable {
    var identity: String?
    var cluster: String?
    var role: String?
    var name: String?
    var region: String?
    var tenant: String?
    var subject: String
    var issuer: String
    var serialNumber: String
    var sha256Fingerprint: String
    var notBefore: String
    var notAfter: String
    /// "valid", "expired" or "not yet valid", at the time of the command.
    var validity: String
    var isCertificateAuthority: Bool
    var uris: [String]
    var dnsNames: [String]
    var ipAddresses: [String]
    /// "ok" or OpenSSL's reason; absent when no CA was given.
    var verification: String?

    init(info: CertificateInfo, verification: String?, now: Date = Date()) {
        let identity = info.identity
        self.identity = identity?.uri
        cluster = identity?.cluster
        role = identity?.role.rawValue
        name = identity?.name
        region = identity?.region
        tenant = identity?.tenant
        subject = info.subject
        issuer = info.issuer
        serialNumber = info.serialNumber
        sha256Fingerprint = info.sha256Fingerprint
        notBefore = CertificateText.timestamp(info.notBefore)
        notAfter = CertificateText.timestamp(info.notAfter)
        validity = now < info.notBefore ? "not yet valid" : now > info.notAfter ? "expired" : "valid"
        isCertificateAuthority = info.isCertificateAuthority
        uris = info.uris
        dnsNames = info.dnsNames
        ipAddresses = info.ipAddresses
        self.verification = verification
    }

    func text() -> String {
        var rows: [(String, String)] = [
            ("Identity", identity ?? "(none)"),
            ("Subject", subject),
            ("Issuer", issuer),
            ("CA", isCertificateAuthority ? "yes" : "no"),
            ("Serial", serialNumber),
            ("SHA-256", sha256Fingerprint),
            ("Not before", notBefore),
            ("Not after", "\(notAfter) (\(validity))"),
            ("DNS names", dnsNames.isEmpty ? "-" : dnsNames.joined(separator: ", ")),
            ("IP addresses", ipAddresses.isEmpty ? "-" : ipAddresses.joined(separator: ", ")),
        ]
        if role == NodeRole.client.rawValue {
            // A client's tenant decides whose jobs it may see (PROTOCOL.md §9.2).
            rows.insert(("Tenant", tenant ?? "(none: tenant default)"), at: 1)
        }
        let otherURIs = uris.filter { $0 != identity }
        if !otherURIs.isEmpty { rows.append(("Other URIs", otherURIs.joined(separator: ", "))) }
        if let verification { rows.append(("Verified", verification)) }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { label, value in
            (label + ":").padding(toLength: width + 2, withPad: " ", startingAt: 0) + value
        }.joined(separator: "\n")
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

enum CertificateText {
    /// RFC 3339 in UTC, e.g. 2026-01-31T12:00:00Z.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
