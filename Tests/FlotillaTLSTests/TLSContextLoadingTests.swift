import FlotillaPKI
import FlotillaTLS
import Foundation
import Testing

/// Loading errors name the file at fault and carry OpenSSL's reason.
struct TLSContextLoadingTests {
    let cluster: TestCluster

    init() throws {
        cluster = try TestCluster()
    }

    @Test func missingCertificateIsNamed() throws {
        var configuration = try cluster.pki.node(.worker, "w1").configuration()
        configuration.certificatePath = cluster.directory.appending("absent.pem").path
        #expect {
            try TLSContext(configuration: configuration, mode: .server)
        } throws: { error in
            guard case .cannotLoad(.certificateChain, let path, let stack) = error as? TLSError else { return false }
            return path == configuration.certificatePath && !stack.isEmpty
                && "\(error)".contains(configuration.certificatePath)
        }
    }

    @Test func keyOfAnotherNodeIsAMismatch() throws {
        var configuration = try cluster.pki.node(.worker, "w1").configuration()
        configuration.privateKeyPath = try cluster.pki.node(.worker, "w2").privateKey.path
        #expect {
            try TLSContext(configuration: configuration, mode: .client)
        } throws: { error in
            guard case .keyMismatch(let certificate, let key, _) = error as? TLSError else { return false }
            return certificate == configuration.certificatePath && key == configuration.privateKeyPath
        }
    }

    @Test func unusableTrustRootsAreNamed() throws {
        var configuration = try cluster.pki.node(.worker, "w1").configuration()
        let garbage = cluster.directory.appending("garbage-ca.pem")
        try Data("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n".utf8).write(to: garbage)
        configuration.trustRootsPath = garbage.path
        #expect {
            try TLSContext(configuration: configuration, mode: .server)
        } throws: { error in
            guard case .cannotLoad(.trustRoots, let path, _) = error as? TLSError else { return false }
            return path == garbage.path
        }
    }

    @Test func defaultsAreStrict() throws {
        let configuration = try cluster.pki.node(.worker, "w1").configuration()
        let defaults = TLSConfiguration(
            certificatePath: configuration.certificatePath, privateKeyPath: configuration.privateKeyPath,
            trustRootsPath: configuration.trustRootsPath)
        #expect(defaults.minimumVersion == .tls13)
        #expect(defaults.handshakeTimeout == .seconds(10))
        #expect(defaults.closeTimeout == .seconds(5))
    }
}
