import FlotillaPKI
import FlotillaTLS
import FlotillaTestSupport
import Foundation
import Testing

/// The NIO server against OpenSSL's own client, `openssl s_client`.
@Suite(.enabled(if: executableOnPath("openssl") != nil, "needs the openssl CLI"))
struct OpenSSLInteropTests {
    let cluster: TestCluster

    init() throws {
        cluster = try TestCluster()
    }

    /// Runs s_client with stdin closed: it completes the handshake, prints the session and,
    /// on end of input, sends close_notify and exits.
    private func sClient(port: Int, _ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(
            executableOnPath("openssl")!,
            arguments: ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", cluster.pki.caCertificate.path, "-verify_return_error"]
                + arguments,
            timeout: .seconds(30))
    }

    private func certificateArguments(_ files: NodeTLSFiles) -> [String] {
        ["-cert", files.certificate.path, "-key", files.privateKey.path]
    }

    @Test func sClientCompletesAMutualHandshake() async throws {
        let server = try await Loopback.server(cluster.context(.coordinator, "c1", mode: .server))
        let alice = try cluster.pki.node(.client, "alice")
        let result = try await sClient(port: server.port, certificateArguments(alice) + ["-tls1_3"])

        #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("TLSv1.3"))
        let peer = try await server.observations.handshake()
        #expect(peer.identity == alice.identity)
        #expect(peer.protocolVersion == "TLSv1.3")
        await server.close()
    }

    @Test func sClientWithoutACertificateIsRefused() async throws {
        let server = try await Loopback.server(cluster.context(.coordinator, "c1", mode: .server))
        // In TLS 1.3 the client finishes first, so only the server's verdict is certain.
        _ = try await sClient(port: server.port, ["-tls1_3"])

        let refusal = try #require(try await server.observations.error() as? TLSError)
        guard case .handshakeFailed(let stack) = refusal else { Issue.record("unexpected \(refusal)"); return }
        #expect(stack.contains { $0.contains("peer did not return a certificate") }, "\(stack)")
        await server.close()
    }

    @Test func tls12IsRefusedUnlessAllowed() async throws {
        let alice = certificateArguments(try cluster.pki.node(.client, "alice"))
        let strict = try await Loopback.server(cluster.context(.coordinator, "c1", mode: .server))
        _ = try await sClient(port: strict.port, alice + ["-tls1_2"])
        let refusal = try #require(try await strict.observations.error() as? TLSError)
        guard case .handshakeFailed(let stack) = refusal else { Issue.record("unexpected \(refusal)"); return }
        #expect(stack.contains { $0.contains("unsupported protocol") }, "\(stack)")
        await strict.close()

        var configuration = try cluster.pki.node(.coordinator, "c1").configuration()
        configuration.minimumVersion = .tls12
        let lenient = try await Loopback.server(TLSContext(configuration: configuration, mode: .server))
        let result = try await sClient(port: lenient.port, alice + ["-tls1_2"])
        #expect(result.stdout.contains("Verify return code: 0 (ok)"), "\(result.stdout)\n\(result.stderr)")
        #expect(try await lenient.observations.handshake().protocolVersion == "TLSv1.2")
        await lenient.close()
    }
}
