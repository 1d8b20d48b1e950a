import FlotillaPKI
import FlotillaTestSupport
import Foundation
import Testing

@Suite struct IssueTests {
    static let ca = Result { try CertificateAuthority.generate(cluster: "test") }

    @Test(arguments: NodeRole.allCases)
    func certificateCarriesItsIdentityAsURISAN(_ role: NodeRole) throws {
        let ca = try Self.ca.get()
        let identity = NodeIdentity(cluster: "test", role: role, name: "node-1", region: "us-east")
        let issued = try ca.issue(identity: identity)
        let info = try CertificateInfo(pem: issued.certificatePEM)
        #expect(info.uris == ["flotilla://test/\(role.rawValue)/node-1?region=us-east"])
        #expect(info.identity == identity)
        #expect(issued.identity == identity)
        #expect(info.commonName == "node-1")
        #expect(info.organization == "test")
        #expect(!info.isCertificateAuthority)
        #expect(info.issuer == (try CertificateInfo(pem: ca.certificatePEM)).subject)
    }

    @Test func identityWithoutRegionRoundTrips() throws {
        let identity = NodeIdentity(cluster: "test", role: .coordinator, name: "c1")
        let info = try CertificateInfo(pem: Self.ca.get().issue(identity: identity).certificatePEM)
        #expect(info.uris == ["flotilla://test/coordinator/c1"])
        #expect(info.identity == identity)
    }

    @Test func serverRolesDefaultToLocalhost() throws {
        let issued = try Self.ca.get().issue(identity: NodeIdentity(cluster: "test", role: .worker, name: "w1"))
        let info = try CertificateInfo(pem: issued.certificatePEM)
        #expect(info.dnsNames == ["localhost"])
        #expect(info.ipAddresses == ["127.0.0.1"])
    }

    @Test func clientsGetNoDefaultNames() throws {
        let issued = try Self.ca.get().issue(identity: NodeIdentity(cluster: "test", role: .client, name: "alice"))
        let info = try CertificateInfo(pem: issued.certificatePEM)
        #expect(info.dnsNames.isEmpty)
        #expect(info.ipAddresses.isEmpty)
    }

    @Test func givenNamesReplaceTheDefaults() throws {
        let issued = try Self.ca.get().issue(
            identity: NodeIdentity(cluster: "test", role: .coordinator, name: "c1"),
            dnsNames: ["coord-1.flotilla.internal", "*.eu.flotilla.internal"], ipAddresses: ["10.0.0.7", "fd00::7"])
        let info = try CertificateInfo(pem: issued.certificatePEM)
        #expect(info.dnsNames == ["coord-1.flotilla.internal", "*.eu.flotilla.internal"])
        #expect(info.ipAddresses == ["10.0.0.7", "fd00::7"])
    }

    @Test(arguments: ["bad name", "a,URI:evil", "-leading.example", "", "under_score.example"])
    func rejectsInvalidDNSNames(_ name: String) throws {
        let ca = try Self.ca.get()
        #expect(throws: PKIError.invalidName("invalid DNS name '\(name)'")) {
            try ca.issue(identity: NodeIdentity(cluster: "test", role: .worker, name: "w"), dnsNames: [name])
        }
    }

    @Test(arguments: ["300.1.1.1", "localhost", "10.0.0.1,DNS:evil", "::g"])
    func rejectsInvalidIPAddresses(_ address: String) throws {
        let ca = try Self.ca.get()
        #expect(throws: PKIError.invalidName("invalid IP address '\(address)'")) {
            try ca.issue(identity: NodeIdentity(cluster: "test", role: .worker, name: "w"), ipAddresses: [address])
        }
    }

    @Test func rejectsIdentitiesThatAreNotValidComponents() throws {
        let ca = try Self.ca.get()
        #expect(throws: PKIError.self) {
            try ca.issue(identity: NodeIdentity(cluster: "test", role: .worker, name: "w,URI:x"))
        }
        #expect(throws: PKIError.self) {
            try ca.issue(identity: NodeIdentity(cluster: "test", role: .worker, name: "w", region: "us east"))
        }
    }

    @Test func validityFollowsTheRequestedPeriod() throws {
        let now = Date()
        let issued = try Self.ca.get().issue(
            identity: NodeIdentity(cluster: "test", role: .router, name: "r1"), validityDays: 7)
        let info = try CertificateInfo(pem: issued.certificatePEM)
        #expect(abs(info.notBefore.timeIntervalSince(now - 300)) < 5)
        #expect(abs(info.notAfter.timeIntervalSince(now + 7 * 86_400)) < 5)
        #expect(throws: PKIError.self) {
            try Self.ca.get().issue(
                identity: NodeIdentity(cluster: "test", role: .router, name: "r1"), notBefore: now, notAfter: now - 1)
        }
    }

    @Test func writtenFilesHaveTheirModesAndAreNotOverwritten() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ca = try Self.ca.get()
        let issued = try ca.issue(identity: NodeIdentity(cluster: "test", role: .admin, name: "ops"))
        let node = directory.appending("ops")
        try issued.write(to: node, caCertificatePEM: ca.certificatePEM)
        #expect(try permissions(node.appendingPathComponent("cert.pem")) == 0o644)
        #expect(try permissions(node.appendingPathComponent("key.pem")) == 0o600)
        #expect(try permissions(node.appendingPathComponent("ca.pem")) == 0o644)
        #expect(try String(contentsOf: node.appendingPathComponent("key.pem"), encoding: .utf8) == issued.privateKeyPEM)
        #expect(try String(contentsOf: node.appendingPathComponent("ca.pem"), encoding: .utf8) == ca.certificatePEM)

        let renewed = try ca.issue(identity: issued.identity)
        #expect(throws: PKIError.self) { try renewed.write(to: node, caCertificatePEM: ca.certificatePEM) }
        #expect(try String(contentsOf: node.appendingPathComponent("cert.pem"), encoding: .utf8) == issued.certificatePEM)
        try renewed.write(to: node, caCertificatePEM: ca.certificatePEM, overwrite: true)
        #expect(try String(contentsOf: node.appendingPathComponent("cert.pem"), encoding: .utf8) == renewed.certificatePEM)
        #expect(try permissions(node.appendingPathComponent("key.pem")) == 0o600)
    }
}
