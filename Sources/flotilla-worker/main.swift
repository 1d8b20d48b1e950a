import ArgumentParser
import FlotillaConfig
import FlotillaTransport
import FlotillaWorker
import Foundation
import Logging
import ServiceLifecycle

/// `flotilla-worker --config FILE`: serves GPU jobs for a coordinator until SIGTERM.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-worker",
        abstract: "Run a Flotilla worker: registers its GPUs and models, runs assigned jobs, drains on SIGTERM.",
        discussion: """
            Every configuration key can be overridden by an environment variable: FLOTILLA_ followed by \
            the key in capitals with dots as underscores (tls.cert: FLOTILLA_TLS_CERT). \
            See cluster-configs/worker-1.yaml. Exit status: 0 after a clean drain, 2 for an invalid \
            configuration, 1 for any other failure.
            """)

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String?

    @Option(name: .long, help: "Coordinator addresses, host:port[,host:port] (overrides `coordinators`).")
    var coordinator: String?

    @Option(name: .long, help: "This worker's name (overrides `name`; must match the certificate).")
    var name: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "flotilla.worker")
        let agent: WorkerAgent
        do {
            var coordinators: [Endpoint]?
            if let coordinator {
                guard let list = Endpoint.list(coordinator) else {
                    throw ConfigError(key: "--coordinator", "expected host:port[,host:port], got \"\(coordinator)\"")
                }
                coordinators = list
            }
            let configuration = try WorkerConfiguration(reader: try ConfigReader(path: config), coordinators: coordinators, name: name)
            try configuration.checkCertificate()
            let gpus = try await GPUInventory.discover(configuration, logger: logger)
            agent = try WorkerAgent(configuration: configuration, gpus: gpus, logger: logger)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("flotilla-worker: \(error)\n".utf8))
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("flotilla-worker: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: WorkerService(agent: agent))], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

// `flotilla-worker supervise ...` is the per-job supervisor the worker starts itself.
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == JobSupervisor.mode {
    JobSupervisor.main(Array(CommandLine.arguments.dropFirst(2)))
}

// Parsed and run by hand: the synchronous `main()` would not await `run()`.
do {
    let command = try WorkerCommand.parse()
    try await command.run()
} catch {
    WorkerCommand.exit(withError: error)
}
