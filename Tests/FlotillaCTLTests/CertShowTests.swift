import FlotillaTestSupport
import Foundation
import Testing

@Suite struct CertShowTests {
    @Test func showsIdentityNamesAndValidity() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.node(.worker, "gpu-7", region: "us-east")
        let result = try await flotillactl(["tls", "cert", "show", files.certificate.path, "--ca", files.caCertificate.path])
        #expect(result.status == 0, "\(result.stderr)")
        for expected in [
            "Identity:     flotilla://test/worker/gpu-7?region=us-east", "Subject:      CN=gpu-7, O=test",
            "DNS names:    localhost", "IP addresses: 127.0.0.1", "(valid)", "Verified:     ok",
        ] {
            #expect(result.stdout.contains(expected), "missing \(expected) in\n\(result.stdout)")
        }
    }

    @Test func jsonOutputParsesAndReportsExpiry() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.expired(.router, "r1")
        let result = try await flotillactl(["tls", "cert", "show", "--json", files.certificate.path])
        #expect(result.status == 0, "\(result.stderr)")
        let info = try JSONDecoder().decode(CertificateJSON.self, from: Data(result.stdout.utf8))
        #expect(info.identity == "flotilla://test/router/r1")
        #expect(info.validity == "expired")
        #expect(!info.isCertificateAuthority)
        #expect(info.verification == nil)
    }

    @Test func certificateFromAnotherCAFailsVerification() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let other = try TestPKI.otherCA(in: directory.url)
        let files = try other.node(.worker, "w1")
        let result = try await flotillactl(["tls", "cert", "show", files.certificate.path, "--ca", pki.caCertificate.path])
        #expect(result.status != 0)
        #expect(result.stdout.contains("Verified:     unable to get local issuer certificate"))
        #expect(result.stderr.hasPrefix("flotillactl: \(files.certificate.path) does not verify against"))
    }

    @Test func garbageFileIsAClearError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.appending("junk.pem")
        try Data("not a certificate".utf8).write(to: file)
        let result = try await flotillactl(["tls", "cert", "show", file.path])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("flotillactl: invalid PEM certificate"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        let absent = directory.appending("absent.pem").path
        let missing = try await flotillactl(["tls", "cert", "show", absent])
        #expect(missing.stderr == "flotillactl: \(absent) does not exist\n")
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.node(.worker, "w1")
        let missingCA = try await flotillactl(["tls", "cert", "show", files.certificate.path, "--ca", absent])
        #expect(missingCA.status != 0)
        #expect(missingCA.stderr == "flotillactl: \(absent) does not exist\n")
    }
}
