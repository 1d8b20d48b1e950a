import FlotillaTestSupport
import Foundation
import Testing

/// `tls cert create --tenant`: a client certificate bound to one tenant (PROTOCOL.md §2.3, §9.2).
@Suite struct CertCreateTenantTests {
    @Test func aClientCertificateNamesItsTenant() async throws {
        try await CertCreateTests.withCA { directory in
            let out = directory.appending("alice")
            let result = try await flotillactl([
                "tls", "cert", "create", "--role", "client", "--name", "alice", "--tenant", "acme",
                "--region", "eu-west", "--ca-dir", directory.appending("ca").path, "--out", out.path,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("flotilla://prod/client/alice?region=eu-west&tenant=acme"))
            let cert = out.appendingPathComponent("cert.pem").path
            let shown = try await flotillactl(["tls", "cert", "show", "--json", cert])
            let info = try JSONDecoder().decode(CertificateJSON.self, from: Data(shown.stdout.utf8))
            #expect(info.identity == "flotilla://prod/client/alice?region=eu-west&tenant=acme")
            #expect(info.tenant == "acme" && info.role == "client" && info.region == "eu-west")
            let text = try await flotillactl(["tls", "cert", "show", cert])
            #expect(text.stdout.contains("Tenant:       acme\n"), "\(text.stdout)")
        }
    }

    @Test func aClientWithoutATenantIsShownAsTheDefaultTenant() async throws {
        try await CertCreateTests.withCA { directory in
            let out = directory.appending("bob")
            let created = try await flotillactl([
                "tls", "cert", "create", "--role", "client", "--name", "bob",
                "--ca-dir", directory.appending("ca").path, "--out", out.path,
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let text = try await flotillactl(["tls", "cert", "show", out.appendingPathComponent("cert.pem").path])
            #expect(text.stdout.contains("Tenant:       (none: tenant default)\n"), "\(text.stdout)")
            let json = try await flotillactl(["tls", "cert", "show", "--json", out.appendingPathComponent("cert.pem").path])
            #expect(try JSONDecoder().decode(CertificateJSON.self, from: Data(json.stdout.utf8)).tenant == nil)
        }
    }

    @Test(arguments: ["coordinator", "worker", "router", "admin"])
    func aTenantOnAnotherRoleIsAOneLineError(_ role: String) async throws {
        try await CertCreateTests.withCA { directory in
            let out = directory.appending(role)
            let result = try await flotillactl([
                "tls", "cert", "create", "--role", role, "--name", "n1", "--tenant", "acme",
                "--ca-dir", directory.appending("ca").path, "--out", out.path,
            ])
            #expect(result.status == 64)
            #expect(result.stderr == "flotillactl: --tenant is only for client certificates, not role \(role)\n")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test(arguments: ["ac me", "acme&region=x", "a/b", ""])
    func anInvalidTenantIsAOneLineError(_ tenant: String) async throws {
        try await CertCreateTests.withCA { directory in
            let out = directory.appending("alice")
            let result = try await flotillactl([
                "tls", "cert", "create", "--role", "client", "--name", "alice", "--tenant", tenant,
                "--ca-dir", directory.appending("ca").path, "--out", out.path,
            ])
            #expect(result.status == 64)
            #expect(result.stderr == "flotillactl: invalid tenant '\(tenant)' (1-128 letters, digits, '-', '_', '.')\n")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }
}
