import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
import Foundation

/// A CA, a coordinator certificate and a `FlotillaServer` running a `FakeCoordinator`,
/// all private to one test, and `flotillactl` pointed at it.
struct CtlHarness {
    let directory: TemporaryDirectory
    let pki: TestPKI
    let server: FlotillaServer
    let coordinator: FakeCoordinator

    static func start(_ script: @escaping FakeCoordinator.Script) async throws -> CtlHarness {
        let directory = try TemporaryDirectory()
        let pki = try TestPKI(directory: directory.url)
        let files = try pki.node(.coordinator, "c1")
        let tls = try TLSContext(
            configuration: TLSConfiguration(
                certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                trustRootsPath: files.caCertificate.path),
            mode: .server)
        let coordinator = FakeCoordinator(script)
        let server = try await FlotillaServer.start(
            host: "127.0.0.1", port: 0, tls: tls, local: LocalNode(identity: files.identity), service: coordinator)
        return CtlHarness(directory: directory, pki: pki, server: server, coordinator: coordinator)
    }

    /// Runs `body` against a fresh harness and stops it afterwards, whatever `body` did.
    static func with(
        _ script: @escaping FakeCoordinator.Script, _ body: (CtlHarness) async throws -> Void
    ) async throws {
        let harness = try await start(script)
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    var address: String { "127.0.0.1:\(server.port)" }

    /// The connection flags for a certificate of `role`.
    func flags(as role: NodeRole = .admin) throws -> [String] {
        let files = try pki.node(role, role == .admin ? "ops" : "alice")
        return [
            "--addr", address, "--cacert", files.caCertificate.path, "--cert", files.certificate.path,
            "--key", files.privateKey.path,
        ]
    }

    /// Runs `flotillactl ARGUMENTS` against the fake coordinator with a `role` certificate.
    func run(_ arguments: [String], as role: NodeRole = .admin) async throws -> ProcessResult {
        try await flotillactl(arguments + flags(as: role))
    }

    func stop() async {
        await server.close()
        directory.remove()
    }
}
