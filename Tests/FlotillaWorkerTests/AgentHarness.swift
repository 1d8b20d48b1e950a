import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
@testable import FlotillaWorker
import Foundation
import Logging

/// A fake coordinator on a loopback port and a worker agent connected to it,
/// with certificates from a fresh test CA and checkpoints in a temporary directory.
struct AgentHarness {
    let directory: TemporaryDirectory
    let coordinator = FakeCoordinator()
    let server: FlotillaServer
    let agent: WorkerAgent
    let runner: Task<Void, Never>

    static let models = [
        ModelConfiguration(name: "sdxl", executor: .simulated(stepDuration: .milliseconds(10), failureRate: 0),
                           defaultSteps: 20, checkpointEvery: 4),
        ModelConfiguration(name: "slow", executor: .simulated(stepDuration: .milliseconds(50), failureRate: 0),
                           defaultSteps: 10_000, checkpointEvery: 0),
    ]

    init(drainGrace: Duration = .seconds(10), models: [ModelConfiguration] = Self.models) async throws {
        directory = try TemporaryDirectory()
        let pki = try TestPKI(directory: directory.appending("pki"))
        let coordinatorFiles = try pki.node(.coordinator, "c1")
        let serverTLS = try TLSContext(
            configuration: TLSConfiguration(certificatePath: coordinatorFiles.certificate.path,
                                            privateKeyPath: coordinatorFiles.privateKey.path,
                                            trustRootsPath: coordinatorFiles.caCertificate.path),
            mode: .server)
        server = try await FlotillaServer.start(
            host: "127.0.0.1", port: 0, tls: serverTLS, local: LocalNode(identity: coordinatorFiles.identity),
            service: coordinator)
        let workerFiles = try pki.node(.worker, "w1")
        var configuration = WorkerConfiguration(
            name: "w1", coordinators: [Endpoint(host: "127.0.0.1", port: server.port)],
            certificatePath: workerFiles.certificate.path, privateKeyPath: workerFiles.privateKey.path,
            trustRootsPath: workerFiles.caCertificate.path, checkpointDirectory: directory.appending("checkpoints").path,
            models: models)
        configuration.cluster = pki.cluster
        configuration.labels = ["zone": "test"]
        configuration.progressInterval = .milliseconds(20)
        configuration.drainGrace = drainGrace
        try configuration.checkCertificate()
        var gpu = Flotilla_V1_Gpu()
        gpu.index = 0
        gpu.type = "A100"
        gpu.memoryMib = 81_920
        var second = gpu
        second.index = 1
        var logger = Logger(label: "flotilla.worker.test")
        logger.logLevel = .critical
        agent = try WorkerAgent(configuration: configuration, gpus: [gpu, second], logger: logger)
        let agent = self.agent
        runner = Task { await agent.run() }
    }

    func subscribed() async throws {
        let coordinator = self.coordinator
        try await eventually("the worker to subscribe") { coordinator.isSubscribed }
    }

    func stop() async {
        runner.cancel()
        await runner.value
        await server.close()
        directory.remove()
    }
}
