import FlotillaPKI
import FlotillaTestSupport
import Foundation
import Testing

@Suite struct CertificateAuthorityTests {
    @Test func generatedCANamesItsClusterAndIsACA() throws {
        let ca = try CertificateAuthority.generate(cluster: "prod-eu", validityDays: 30)
        let info = try CertificateInfo(pem: ca.certificatePEM)
        #expect(ca.cluster == "prod-eu")
        #expect(info.isCertificateAuthority)
        #expect(info.commonName == "Flotilla CA prod-eu")
        #expect(info.organization == "prod-eu")
        #expect(info.subject == info.issuer)
        #expect(info.isValid())
        let days = info.notAfter.timeIntervalSince(info.notBefore) / 86_400
        #expect(days > 30 && days < 30.01)
        #expect(info.serialNumber.count >= 16)
        #expect(ca.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test func serialsAreRandom() throws {
        let first = try CertificateInfo(pem: CertificateAuthority.generate(cluster: "a").certificatePEM)
        let second = try CertificateInfo(pem: CertificateAuthority.generate(cluster: "a").certificatePEM)
        #expect(first.serialNumber != second.serialNumber)
    }

    @Test func writeThenLoadRoundTripsWithModes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let caDirectory = directory.appending("nested/ca")
        let ca = try CertificateAuthority.generate(cluster: "round-trip")
        try ca.write(to: caDirectory)
        #expect(try permissions(caDirectory.appendingPathComponent("ca.pem")) == 0o644)
        #expect(try permissions(caDirectory.appendingPathComponent("ca-key.pem")) == 0o600)
        let loaded = try CertificateAuthority.load(directory: caDirectory)
        #expect(loaded.cluster == "round-trip")
        #expect(loaded.certificatePEM == ca.certificatePEM)
        #expect(loaded.privateKeyPEM == ca.privateKeyPEM)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: caDirectory.path)
        #expect(Set(leftovers) == ["ca.pem", "ca-key.pem"])
    }

    @Test func refusesToOverwriteAnExistingCAUnlessAsked() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try CertificateAuthority.generate(cluster: "one")
        try first.write(to: directory.url)
        let second = try CertificateAuthority.generate(cluster: "two")
        #expect(throws: PKIError.fileExists(path: directory.appending("ca.pem").path)) {
            try second.write(to: directory.url)
        }
        #expect(try CertificateAuthority.load(directory: directory.url).cluster == "one")
        try second.write(to: directory.url, overwrite: true)
        #expect(try CertificateAuthority.load(directory: directory.url).cluster == "two")
        #expect(try permissions(directory.appending("ca-key.pem")) == 0o600)
    }

    @Test func loadingFromAMissingDirectoryNamesTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.appending("absent")
        #expect(throws: PKIError.fileNotFound(path: missing.appendingPathComponent("ca.pem").path)) {
            try CertificateAuthority.load(directory: missing)
        }
    }

    @Test func rejectsAKeyFromAnotherCA() throws {
        let ca = try CertificateAuthority.generate(cluster: "a")
        let other = try CertificateAuthority.generate(cluster: "a")
        #expect(throws: PKIError.keyMismatch(what: "CA")) {
            try CertificateAuthority(certificatePEM: ca.certificatePEM, privateKeyPEM: other.privateKeyPEM)
        }
    }

    @Test func rejectsANodeCertificateAsCA() throws {
        let ca = try CertificateAuthority.generate(cluster: "a")
        let issued = try ca.issue(identity: NodeIdentity(cluster: "a", role: .worker, name: "w1"))
        #expect(throws: PKIError.notACertificateAuthority("CN=w1, O=a")) {
            try CertificateAuthority(certificatePEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM)
        }
    }

    @Test(arguments: ["", "has space", "a/b", "comma,name", String(repeating: "x", count: 129)])
    func rejectsInvalidClusterNames(_ cluster: String) {
        #expect(throws: PKIError.self) { try CertificateAuthority.generate(cluster: cluster) }
    }

    @Test func rejectsNonPositiveValidity() {
        #expect(throws: PKIError.self) { try CertificateAuthority.generate(cluster: "a", validityDays: 0) }
    }

    /// Past the year 9999 X.509 cannot express the date; it must be an error, not a trap.
    @Test(arguments: [3_000_000, Int.max])
    func rejectsValidityBeyondTheYear9999(_ days: Int) {
        #expect {
            try CertificateAuthority.generate(cluster: "a", validityDays: days)
        } throws: { error in
            guard case PKIError.invalidValidity = error else { return false }
            return true
        }
    }
}
