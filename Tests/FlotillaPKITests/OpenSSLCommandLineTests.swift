import FlotillaPKI
import FlotillaTestSupport
import Foundation
import Testing

/// Checks what FlotillaPKI writes with an independent implementation: the `openssl` CLI.
@Suite struct OpenSSLCommandLineTests {
    static func openssl(_ arguments: String...) async throws -> ProcessResult {
        let tool = try #require(executableOnPath("openssl"), "the openssl command-line tool is needed")
        return try await runProcess(tool, arguments: arguments, timeout: .seconds(30))
    }

    @Test func opensslVerifyAcceptsIssuedCertificates() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        for role in NodeRole.allCases {
            let files = try pki.node(role, "\(role.rawValue)-1", region: "eu-west")
            let result = try await Self.openssl(
                "verify", "-x509_strict", "-purpose", role == .client ? "sslclient" : "sslserver",
                "-CAfile", files.caCertificate.path, files.certificate.path)
            #expect(result.status == 0, "\(role): \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains(": OK"))
        }
    }

    @Test func opensslVerifyRejectsAnotherCAsCertificate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let other = try TestPKI.otherCA(in: directory.url)
        let files = try other.node(.worker, "w1")
        let result = try await Self.openssl("verify", "-CAfile", pki.caCertificate.path, files.certificate.path)
        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("unable to get local issuer certificate"))
    }

    @Test func opensslVerifyRejectsExpiredCertificate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.expired(.worker, "w1")
        let result = try await Self.openssl("verify", "-CAfile", pki.caCertificate.path, files.certificate.path)
        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("certificate has expired"))
    }

    @Test func opensslSeesTheExtensions() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.node(.coordinator, "c1", region: "us-east")
        let leaf = try await Self.openssl("x509", "-in", files.certificate.path, "-noout", "-text")
        #expect(leaf.status == 0)
        for expected in [
            "CA:FALSE", "Digital Signature", "TLS Web Server Authentication, TLS Web Client Authentication",
            "URI:flotilla://test/coordinator/c1?region=us-east", "DNS:localhost", "IP Address:127.0.0.1",
            "ecdsa-with-SHA256", "NIST CURVE: P-256", "X509v3 Authority Key Identifier", "Subject: CN = c1, O = test",
        ] {
            #expect(leaf.stdout.contains(expected), "missing \(expected)")
        }
        let root = try await Self.openssl("x509", "-in", pki.caCertificate.path, "-noout", "-text")
        for expected in [
            "CA:TRUE", "Certificate Sign, CRL Sign", "X509v3 Subject Key Identifier",
            "Subject: CN = Flotilla CA test, O = test",
        ] {
            #expect(root.stdout.contains(expected), "missing \(expected)")
        }
        #expect(root.stdout.contains("critical"))
    }

    @Test func fingerprintMatchesOpenSSL() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.node(.worker, "w1")
        let result = try await Self.openssl("x509", "-in", files.certificate.path, "-noout", "-fingerprint", "-sha256", "-serial")
        let info = try CertificateInfo(contentsOf: files.certificate)
        #expect(result.stdout.contains("Fingerprint=\(info.sha256Fingerprint)"))
        #expect(result.stdout.contains("serial=\(info.serialNumber)"))
    }

    @Test func privateKeyMatchesCertificate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.node(.admin, "ops")
        let fromKey = try await Self.openssl("pkey", "-in", files.privateKey.path, "-pubout")
        let fromCertificate = try await Self.openssl("x509", "-in", files.certificate.path, "-noout", "-pubkey")
        #expect(fromKey.status == 0 && fromCertificate.status == 0)
        #expect(!fromKey.stdout.isEmpty && fromKey.stdout == fromCertificate.stdout)
    }
}
