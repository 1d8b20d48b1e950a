import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import Foundation
import Testing

@Suite struct OwnIdentityTests {
    @Test func acceptsItsOwnCertificateAndRecordsItsExpiry() throws {
        let cluster = try TestCluster()
        let files = try cluster.pki.node(.coordinator, "c1")
        let context = try TLSContext(
            configuration: files.configuration(), mode: .server,
            ownIdentity: OwnIdentity(cluster: "test", role: .coordinator, name: "c1"))
        let certificate = try #require(context.certificate)
        #expect(certificate.identity == files.identity)
        #expect(certificate.notAfter > Date())
    }

    @Test func refusesACertificateNotSignedByItsTrustRoots() throws {
        let cluster = try TestCluster()
        let stranger = try TestPKI.otherCA(in: cluster.directory.url).node(.coordinator, "c1")
        let error = try #require(throws: TLSError.self) {
            try TLSContext(
                configuration: stranger.configuration(trustRoots: cluster.pki.caCertificate), mode: .server,
                ownIdentity: OwnIdentity(cluster: "test", role: .coordinator, name: "c1"))
        }
        #expect("\(error)".contains("is not signed by a CA in"))
    }

    /// During a CA rotation the trust file holds the old and the new CA: either signs.
    @Test func acceptsAnyCAOfABundle() throws {
        let cluster = try TestCluster()
        let other = try TestPKI.otherCA(in: cluster.directory.url)
        let bundle = cluster.directory.appending("bundle.pem")
        let text = try String(contentsOf: cluster.pki.caCertificate, encoding: .utf8)
            + String(contentsOf: other.caCertificate, encoding: .utf8)
        try text.write(to: bundle, atomically: true, encoding: .utf8)
        let files = try other.node(.worker, "w1")
        let context = try TLSContext(
            configuration: files.configuration(trustRoots: bundle), mode: .client,
            ownIdentity: OwnIdentity(cluster: "test", role: .worker, name: "w1"))
        #expect(context.certificate?.identity?.name == "w1")
    }

    @Test func reloadOfTheWrongRoleKeepsThePreviousCertificate() throws {
        let cluster = try TestCluster()
        let files = try cluster.pki.node(.coordinator, "c1")
        let live = NodeTLSFiles(identity: files.identity, directory: cluster.directory.appending("live"))
        try FileManager.default.copyItem(at: files.directory, to: live.directory)
        let context = try TLSContext(
            configuration: live.configuration(), mode: .server,
            ownIdentity: OwnIdentity(cluster: "test", role: .coordinator, name: "c1"))
        let before = try #require(context.certificate)
        let worker = try cluster.pki.node(.worker, "c1")
        try Data(contentsOf: worker.certificate).write(to: live.certificate)
        try Data(contentsOf: worker.privateKey).write(to: live.privateKey)
        let error = try #require(throws: TLSError.self) { try context.reload() }
        #expect("\(error)".contains("it is a worker certificate"))
        #expect(context.certificate == before)
    }
}
