import FlotillaPKI
import Foundation
import Testing

@Suite struct BadInputTests {
    static let garbage = [
        "", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n", String(repeating: "\u{0}", count: 64),
    ]

    @Test(arguments: garbage)
    func garbageCertificateIsATypedError(_ text: String) {
        #expect {
            try CertificateInfo(pem: text)
        } throws: { error in
            guard case PKIError.invalidPEM(what: "certificate", _) = error else { return false }
            return true
        }
    }

    @Test func truncatedCertificateIsATypedError() throws {
        let pem = try CertificateAuthority.generate(cluster: "a").certificatePEM
        let truncated = String(pem.prefix(pem.count / 2)) + "\n-----END CERTIFICATE-----\n"
        #expect(throws: PKIError.self) { try CertificateInfo(pem: truncated) }
    }

    @Test func aCertificateIsNotAKey() throws {
        let ca = try CertificateAuthority.generate(cluster: "a")
        #expect {
            try CertificateAuthority(certificatePEM: ca.certificatePEM, privateKeyPEM: ca.certificatePEM)
        } throws: { error in
            guard case PKIError.invalidPEM(what: "CA private key", let detail) = error else { return false }
            return !detail.isEmpty
        }
    }

    @Test func derParsesLikePEMAndGarbageDERIsATypedError() throws {
        let ca = try CertificateAuthority.generate(cluster: "a")
        let issued = try ca.issue(identity: NodeIdentity(cluster: "a", role: .worker, name: "w1"))
        let body = issued.certificatePEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = try #require(Data(base64Encoded: body))
        #expect(try CertificateInfo(der: Array(der)) == CertificateInfo(pem: issued.certificatePEM))
        #expect {
            try CertificateInfo(der: Array(der.prefix(100)))
        } throws: { error in
            guard case PKIError.invalidDER(what: "certificate", _) = error else { return false }
            return true
        }
        #expect(throws: PKIError.self) { try CertificateInfo(der: []) }
    }

    @Test func errorsDescribeThemselves() {
        #expect(PKIError.fileExists(path: "/x/ca.pem").description == "/x/ca.pem already exists")
        #expect(
            PKIError.invalidPEM(what: "certificate", openSSL: "no start line").description
                == "invalid PEM certificate (no start line)")
    }

    @Test func garbageFileIsATypedError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-garbage-\(UUID().uuidString).pem")
        try Data("junk".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: PKIError.self) { try CertificateInfo(contentsOf: url) }
    }
}
