import FlotillaTestSupport
import Foundation
import Testing

@Suite struct CertCreateTests {
    static let roles = ["coordinator", "worker", "router", "admin", "client"]

    /// A temporary directory holding a CA for cluster "prod" in `ca/`.
    static func withCA(_ body: (TemporaryDirectory) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let created = try await flotillactl([
            "tls", "ca", "create", "--dir", directory.appending("ca").path, "--cluster", "prod",
        ])
        try #require(created.status == 0, "\(created.stderr)")
        try await body(directory)
    }

    @Test func everyRoleGetsACertificateThatOpenSSLVerifies() async throws {
        try await Self.withCA { directory in
            for role in Self.roles {
                let out = directory.appending("nodes/\(role)")
                let result = try await flotillactl([
                    "tls", "cert", "create", "--role", role, "--name", "\(role)-1", "--region", "eu-west",
                    "--ca-dir", directory.appending("ca").path, "--out", out.path,
                ])
                #expect(result.status == 0, "\(role): \(result.stderr)")
                #expect(result.stdout.contains("flotilla://prod/\(role)/\(role)-1?region=eu-west"))
                let cert = out.appendingPathComponent("cert.pem")
                #expect(try permissions(cert) == 0o644)
                #expect(try permissions(out.appendingPathComponent("key.pem")) == 0o600)
                #expect(try permissions(out.appendingPathComponent("ca.pem")) == 0o644)

                let verified = try await openssl([
                    "verify", "-x509_strict", "-purpose", role == "client" ? "sslclient" : "sslserver",
                    "-CAfile", out.appendingPathComponent("ca.pem").path, cert.path,
                ])
                #expect(verified.status == 0, "\(role): \(verified.stdout)\(verified.stderr)")

                let shown = try await flotillactl(["tls", "cert", "show", "--json", cert.path])
                let info = try JSONDecoder().decode(CertificateJSON.self, from: Data(shown.stdout.utf8))
                #expect(info.identity == "flotilla://prod/\(role)/\(role)-1?region=eu-west")
                #expect(info.role == role && info.name == "\(role)-1" && info.cluster == "prod" && info.region == "eu-west")
                #expect(info.validity == "valid")
                #expect(info.dnsNames == (role == "client" ? [] : ["localhost"]))
            }
        }
    }

    @Test func dnsAndIPNamesGoIntoTheCertificate() async throws {
        try await Self.withCA { directory in
            let out = directory.appending("c1")
            let result = try await flotillactl([
                "tls", "cert", "create", "--role", "coordinator", "--name", "c1", "--dns", "c1.flotilla.internal",
                "--dns", "localhost", "--ip", "10.1.2.3", "--ip", "::1", "--days", "10",
                "--ca-dir", directory.appending("ca").path, "--out", out.path,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let cert = out.appendingPathComponent("cert.pem").path
            let names = try await openssl(["x509", "-in", cert, "-noout", "-ext", "subjectAltName"])
            #expect(names.stdout.contains("URI:flotilla://prod/coordinator/c1"))
            #expect(names.stdout.contains("DNS:c1.flotilla.internal, DNS:localhost"))
            #expect(names.stdout.contains("IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1"))
            let soon = try await openssl(["x509", "-in", cert, "-noout", "-checkend", "\(11 * 86_400)"])
            #expect(soon.status != 0)
        }
    }

    @Test func invalidRoleIsAOneLineError() async throws {
        try await Self.withCA { directory in
            let out = directory.appending("w")
            let result = try await flotillactl([
                "tls", "cert", "create", "--role", "wrkr", "--name", "w1",
                "--ca-dir", directory.appending("ca").path, "--out", out.path,
            ])
            #expect(result.status != 0)
            #expect(result.stderr == "flotillactl: invalid role 'wrkr' (one of coordinator, worker, router, admin, client)\n")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test(arguments: [
        (["--name", "bad name"], "flotillactl: invalid name 'bad name' (1-128 letters, digits, '-', '_', '.')\n"),
        (
            ["--name", "w1", "--region", "eu/west"],
            "flotillactl: invalid region 'eu/west' (1-128 letters, digits, '-', '_', '.')\n"
        ),
        (["--name", "w1", "--dns", "a,b"], "flotillactl: invalid DNS name 'a,b'\n"),
        (["--name", "w1", "--ip", "10.0.0.300"], "flotillactl: invalid IP address '10.0.0.300'\n"),
        (["--name", "w1", "--days", "0"], "flotillactl: invalid --days 0 (must be at least 1)\n"),
    ])
    func invalidValuesAreOneLineErrors(_ extra: [String], _ message: String) async throws {
        try await Self.withCA { directory in
            let out = directory.appending("w")
            let result = try await flotillactl(
                ["tls", "cert", "create", "--role", "worker", "--ca-dir", directory.appending("ca").path, "--out", out.path]
                    + extra)
            #expect(result.status != 0)
            #expect(result.stderr == message)
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test func missingCADirectoryIsAClearError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.appending("no-such-ca")
        let result = try await flotillactl([
            "tls", "cert", "create", "--role", "worker", "--name", "w1", "--ca-dir", missing.path,
            "--out", directory.appending("w1").path,
        ])
        #expect(result.status != 0)
        #expect(result.stderr == "flotillactl: cannot load the CA from \(missing.path): \(missing.path)/ca.pem does not exist\n")
    }

    @Test func refusesToReplaceCertificateFilesWithoutForce() async throws {
        try await Self.withCA { directory in
            let out = directory.appending("w1")
            let arguments = [
                "tls", "cert", "create", "--role", "worker", "--name", "w1",
                "--ca-dir", directory.appending("ca").path, "--out", out.path,
            ]
            #expect(try await flotillactl(arguments).status == 0)
            let original = try String(contentsOf: out.appendingPathComponent("key.pem"), encoding: .utf8)
            let refused = try await flotillactl(arguments)
            #expect(refused.status != 0)
            #expect(refused.stderr.hasPrefix("flotillactl: \(out.path)/cert.pem already exists; use --force"))
            #expect(try String(contentsOf: out.appendingPathComponent("key.pem"), encoding: .utf8) == original)
            #expect(try await flotillactl(arguments + ["--force"]).status == 0)
            #expect(try String(contentsOf: out.appendingPathComponent("key.pem"), encoding: .utf8) != original)
            #expect(try permissions(out.appendingPathComponent("key.pem")) == 0o600)
        }
    }

    @Test func missingRequiredOptionIsAUsageError() async throws {
        let result = try await flotillactl(["tls", "cert", "create", "--role", "worker", "--name", "w1"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--ca-dir"))
    }
}
