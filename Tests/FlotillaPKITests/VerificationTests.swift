import FlotillaPKI
import Foundation
import Testing

@Suite struct VerificationTests {
    @Test func certificateVerifiesAgainstItsOwnCA() throws {
        let ca = try CertificateAuthority.generate(cluster: "test")
        let issued = try ca.issue(identity: NodeIdentity(cluster: "test", role: .worker, name: "w1"))
        try ca.verify(certificatePEM: issued.certificatePEM)
        try ca.verify(certificatePEM: ca.certificatePEM)
    }

    @Test func certificateFromAnotherCADoesNotVerify() throws {
        let ca = try CertificateAuthority.generate(cluster: "test")
        let other = try CertificateAuthority.generate(cluster: "test")
        let issued = try other.issue(identity: NodeIdentity(cluster: "test", role: .worker, name: "w1"))
        #expect(throws: PKIError.verificationFailed(reason: "unable to get local issuer certificate")) {
            try ca.verify(certificatePEM: issued.certificatePEM)
        }
        #expect(throws: PKIError.self) { try ca.verify(certificatePEM: other.certificatePEM) }
    }

    @Test func expiredCertificateDoesNotVerify() throws {
        let ca = try CertificateAuthority.generate(cluster: "test")
        let now = Date()
        let issued = try ca.issue(
            identity: NodeIdentity(cluster: "test", role: .worker, name: "w1"), notBefore: now - 7200, notAfter: now - 3600)
        #expect(throws: PKIError.verificationFailed(reason: "certificate has expired")) {
            try ca.verify(certificatePEM: issued.certificatePEM)
        }
        #expect(!(try CertificateInfo(pem: issued.certificatePEM)).isValid())
    }

    @Test func certificateIsCheckedAtTheGivenTime() throws {
        let ca = try CertificateAuthority.generate(cluster: "test")
        let now = Date()
        let issued = try ca.issue(
            identity: NodeIdentity(cluster: "test", role: .worker, name: "w1"), notBefore: now + 3600, notAfter: now + 7200)
        #expect(throws: PKIError.verificationFailed(reason: "certificate is not yet valid")) {
            try ca.verify(certificatePEM: issued.certificatePEM)
        }
        try ca.verify(certificatePEM: issued.certificatePEM, at: now + 5400)
        try CertificateAuthority.verify(
            certificatePEM: issued.certificatePEM, caCertificatePEM: ca.certificatePEM, at: now + 5400)
    }
}
