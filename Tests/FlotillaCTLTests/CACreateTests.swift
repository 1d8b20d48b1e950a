import FlotillaTestSupport
import Foundation
import Testing

@Suite struct CACreateTests {
    @Test func createsACAWithTheRightModes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let caDirectory = directory.appending("ca")
        let caFile = caDirectory.appendingPathComponent("ca.pem").path
        let result = try await flotillactl([
            "tls", "ca", "create", "--dir", caDirectory.path, "--cluster", "prod", "--days", "30",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("CA certificate saved to: \(caFile)"))
        #expect(try permissions(caDirectory.appendingPathComponent("ca.pem")) == 0o644)
        #expect(try permissions(caDirectory.appendingPathComponent("ca-key.pem")) == 0o600)

        let text = try await openssl(["x509", "-in", caFile, "-noout", "-subject", "-ext", "basicConstraints"])
        #expect(text.stdout.contains("subject=CN = Flotilla CA prod, O = prod"))
        #expect(text.stdout.contains("CA:TRUE"))
        let lasts29Days = try await openssl(["x509", "-in", caFile, "-noout", "-checkend", "\(29 * 86_400)"])
        #expect(lasts29Days.status == 0)
        let lasts31Days = try await openssl(["x509", "-in", caFile, "-noout", "-checkend", "\(31 * 86_400)"])
        #expect(lasts31Days.status != 0)
    }

    @Test func clusterDefaultsToFlotilla() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try await flotillactl(["tls", "ca", "create", "--dir", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        let shown = try await flotillactl(["tls", "cert", "show", "--json", directory.appending("ca.pem").path])
        let certificate = try JSONDecoder().decode(CertificateJSON.self, from: Data(shown.stdout.utf8))
        #expect(certificate.subject == "CN=Flotilla CA flotilla, O=flotilla")
        #expect(certificate.isCertificateAuthority)
        #expect(certificate.identity == nil)
    }

    @Test func refusesToReplaceAnExistingCAWithoutForce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let caFile = directory.appending("ca.pem")
        #expect(try await flotillactl(["tls", "ca", "create", "--dir", directory.path]).status == 0)
        let original = try String(contentsOf: caFile, encoding: .utf8)

        let refused = try await flotillactl(["tls", "ca", "create", "--dir", directory.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.hasPrefix("flotillactl: \(caFile.path) already exists; use --force"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(try String(contentsOf: caFile, encoding: .utf8) == original)

        let forced = try await flotillactl(["tls", "ca", "create", "--dir", directory.path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOf: caFile, encoding: .utf8) != original)
        #expect(try permissions(directory.appending("ca-key.pem")) == 0o600)
    }

    @Test func rejectsAnInvalidClusterName() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try await flotillactl(["tls", "ca", "create", "--dir", directory.path, "--cluster", "my cluster"])
        #expect(result.status != 0)
        #expect(result.stderr == "flotillactl: invalid cluster name 'my cluster' (1-128 letters, digits, '-', '_', '.')\n")
        #expect(!FileManager.default.fileExists(atPath: directory.appending("ca.pem").path))
    }

    @Test func absurdValidityIsAnErrorNotACrash() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try await flotillactl(["tls", "ca", "create", "--dir", directory.path, "--days", "\(Int.max)"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("flotillactl: invalid validity:"))
    }

    @Test func helpListsTheTLSGroup() async throws {
        let result = try await flotillactl(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("tls"))
        let tls = try await flotillactl(["tls", "cert", "create", "--help"])
        #expect(tls.stdout.contains("--ca-dir"))
    }
}
