import ArgumentParser
import FlotillaConfig
import FlotillaCoordinator
import Foundation
import Logging
import ServiceLifecycle

/// `flotilla-coordinator --config FILE`: serves one region's cluster until SIGTERM.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-coordinator",
        abstract: "Run a Flotilla coordinator: the job log, scheduling and worker health for one region.",
        discussion: """
            Every configuration key can be overridden by an environment variable: FLOTILLA_ followed by \
            the key in capitals with dots as underscores (health.heartbeat_timeout: \
            FLOTILLA_HEALTH_HEARTBEAT_TIMEOUT). See cluster-configs/coordinator.yaml.
            """)

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "flotilla.coordinator")
        let configuration: CoordinatorConfiguration
        do {
            configuration = try CoordinatorConfiguration(reader: try ConfigReader(path: config))
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("flotilla-coordinator: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let process: CoordinatorProcess
        do {
            process = try CoordinatorProcess(configuration: configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("flotilla-coordinator: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: process)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

// Parsed and run by hand: the synchronous `main()` would not await `run()`.
do {
    let command = try CoordinatorCommand.parse()
    try await command.run()
} catch {
    CoordinatorCommand.exit(withError: error)
}
