import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import NIOPosix

/// A CA, certificates per role and a running server, all in one temporary directory.
struct TransportHarness {
    let directory: TemporaryDirectory
    let pki: TestPKI

    init() throws {
        directory = try TemporaryDirectory()
        pki = try TestPKI(directory: directory.url)
    }

    func identity(_ role: NodeRole, _ name: String) -> NodeIdentity {
        NodeIdentity(cluster: pki.cluster, role: role, name: name)
    }

    func tls(_ role: NodeRole, _ name: String, mode: TLSContext.Mode) throws -> TLSContext {
        let files = try pki.node(role, name)
        return try TLSContext(
            configuration: TLSConfiguration(
                certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                trustRootsPath: files.caCertificate.path),
            mode: mode)
    }

    func server(
        service: any FlotillaService, name: String = "c1", configuration: TransportConfiguration = .init()
    ) async throws -> FlotillaServer {
        try await FlotillaServer.start(
            host: "127.0.0.1", port: 0, tls: try tls(.coordinator, name, mode: .server),
            local: LocalNode(identity: identity(.coordinator, name)), service: service, configuration: configuration)
    }

    func connect(
        to server: FlotillaServer, as role: NodeRole, _ name: String, claiming claimed: NodeIdentity? = nil,
        configuration: TransportConfiguration = .init()
    ) async throws -> FlotillaConnection {
        try await FlotillaConnection.connect(
            host: "127.0.0.1", port: server.port, tls: try tls(role, name, mode: .client),
            local: LocalNode(identity: claimed ?? identity(role, name)), configuration: configuration)
    }
}
