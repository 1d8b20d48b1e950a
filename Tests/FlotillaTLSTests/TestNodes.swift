import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import Foundation
import NIOCore

/// A test's own directory and cluster CA, removed when the test lets go of it.
final class TestCluster: Sendable {
    let directory: TemporaryDirectory
    let pki: TestPKI

    init() throws {
        directory = try TemporaryDirectory(prefix: "flotilla-tls")
        pki = try TestPKI(directory: directory.url)
    }

    deinit { directory.remove() }

    func context(
        _ role: NodeRole, _ name: String, mode: TLSContext.Mode,
        handshakeTimeout: TimeAmount = .seconds(10), closeTimeout: TimeAmount = .seconds(5)
    ) throws -> TLSContext {
        try pki.node(role, name).context(mode, handshakeTimeout: handshakeTimeout, closeTimeout: closeTimeout)
    }
}

extension NodeTLSFiles {
    /// This node's certificate and key; trusting its own CA unless `trustRoots` says otherwise.
    func configuration(
        trustRoots: URL? = nil, handshakeTimeout: TimeAmount = .seconds(10), closeTimeout: TimeAmount = .seconds(5)
    ) -> TLSConfiguration {
        TLSConfiguration(
            certificatePath: certificate.path, privateKeyPath: privateKey.path,
            trustRootsPath: (trustRoots ?? caCertificate).path,
            handshakeTimeout: handshakeTimeout, closeTimeout: closeTimeout)
    }

    func context(
        _ mode: TLSContext.Mode, trustRoots: URL? = nil, handshakeTimeout: TimeAmount = .seconds(10),
        closeTimeout: TimeAmount = .seconds(5)
    ) throws -> TLSContext {
        try TLSContext(
            configuration: configuration(trustRoots: trustRoots, handshakeTimeout: handshakeTimeout, closeTimeout: closeTimeout),
            mode: mode)
    }

    /// Copies cert, key and CA over `directory`'s files, the way an operator rotates them.
    func install(into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in [certificate, privateKey, caCertificate] {
            try Data(contentsOf: file).write(to: directory.appendingPathComponent(file.lastPathComponent), options: .atomic)
        }
    }
}
