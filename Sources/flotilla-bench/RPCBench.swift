import ArgumentParser
import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTransport
import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// Request/response round trips over mutual TLS on loopback with 1, 16 and 256
/// concurrent connections: throughput and p50/p99 latency.
struct RPCBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rpc", abstract: "Round trips per second over mutual TLS on loopback.")

    @Option(help: "Seconds per case.") var seconds: Double = 3
    @Option(parsing: .upToNextOption, help: "Concurrent connections per case.") var connections: [Int] = [1, 16, 256]

    func measure() async throws {
        let pki = try BenchPKI()
        defer { pki.remove() }
        let server = try await FlotillaServer.start(
            host: "127.0.0.1", port: 0, tls: try pki.context(for: .coordinator, mode: .server),
            local: LocalNode(identity: pki.identity(.coordinator)), service: EchoService())
        let clientTLS = try pki.context(for: .client, mode: .client)
        print("connections   round trips/s   p50 ms   p99 ms")
        for count in connections {
            var clients: [FlotillaConnection] = []
            for _ in 0..<count {
                clients.append(try await FlotillaConnection.connect(host: "127.0.0.1", port: server.port, tls: clientTLS, local: LocalNode(identity: pki.identity(.client))))
            }
            let latencies = NIOLockedValueBox<[UInt64]>([])
            let deadline = Measure.now() + UInt64(seconds * 1e9)
            let start = Measure.now()
            try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for client in clients {
                    group.addTask {
                        var samples: [UInt64] = []
                        var request = Flotilla_V1_GetJobRequest()
                        request.jobID = "job-1"
                        while Measure.now() < deadline {
                            let sent = Measure.now()
                            _ = try await client.request(request, expecting: Flotilla_V1_GetJobResponse.self)
                            samples.append(Measure.now() - sent)
                        }
                        return samples
                    }
                }
                for try await samples in group { latencies.withLockedValue { $0.append(contentsOf: samples) } }
            }
            let elapsed = Double(Measure.now() - start) / 1e9
            let sorted = latencies.withLockedValue { $0.sorted() }
            let line = "\(String(count).leftPad(11))   \(Measure.format(Double(sorted.count) / elapsed).leftPad(13))   \(String(format: "%6.2f", Measure.percentile(sorted, 0.50)))   \(String(format: "%6.2f", Measure.percentile(sorted, 0.99)))"
            print(line)
            for client in clients { await client.close() }
        }
        await server.close()
    }
}

/// Answers every GetJobRequest with a small job record.
struct EchoService: FlotillaService {
    func handle(_ request: InboundRequest) async -> ServiceReply {
        var response = Flotilla_V1_GetJobResponse()
        response.job.id = request.message(as: Flotilla_V1_GetJobRequest.self)?.jobID ?? ""
        response.job.state = .running
        return .message(response)
    }
}

/// A throwaway CA and certificates for the benchmark, in a temporary directory.
struct BenchPKI {
    let directory: URL
    let ca: CertificateAuthority

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-bench-\(UUID().uuidString)")
        ca = try CertificateAuthority.generate(cluster: "bench")
        for role in [NodeRole.coordinator, .client] {
            let issued = try ca.issue(identity: identity(role))
            try issued.write(to: directory.appendingPathComponent(role.rawValue), caCertificatePEM: ca.certificatePEM)
        }
    }

    func identity(_ role: NodeRole) -> NodeIdentity {
        NodeIdentity(cluster: "bench", role: role, name: "bench-\(role.rawValue)")
    }

    func context(for role: NodeRole, mode: TLSContext.Mode) throws -> TLSContext {
        let node = directory.appendingPathComponent(role.rawValue)
        let configuration = TLSConfiguration(
            certificatePath: node.appendingPathComponent("cert.pem").path,
            privateKeyPath: node.appendingPathComponent("key.pem").path,
            trustRootsPath: node.appendingPathComponent("ca.pem").path)
        return try TLSContext(configuration: configuration, mode: mode)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
