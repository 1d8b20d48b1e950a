import ArgumentParser
import FlotillaConfig
import FlotillaCoordinator
import FlotillaLog
import Foundation
import Logging
import ServiceLifecycle

/// `flotilla-coordinator`: `serve` (the default, so `flotilla-coordinator --config FILE`
/// still runs a coordinator) and the operator's `repair-log`.
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-coordinator",
        abstract: "Run a Flotilla coordinator: the job log, scheduling and worker health for one region.",
        subcommands: [ServeCommand.self, RepairLogCommand.self],
        defaultSubcommand: ServeCommand.self)
}

/// `flotilla-coordinator [serve] --config FILE`: serves one region's cluster until SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve one region's cluster until SIGTERM (the default command).",
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
        bootstrapLogging(level: logLevel)
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

/// `flotilla-coordinator repair-log --data-dir DIR [--dry-run]`: the explicit way past a log
/// that refuses to open because entries it had acknowledged are gone.
struct RepairLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair-log",
        abstract: "Cut a damaged job log back to its whole prefix so the coordinator can start.",
        discussion: """
            Keeps the snapshot and the entries that follow it without a gap up to the first damage, \
            removes everything after (later segment files included) and sets the durability marker to \
            what remains. The dropped entries, acknowledged jobs among them, are gone for good: the \
            report says how many. Run with --dry-run first to see it without changing anything. The \
            coordinator must be stopped. See proto-spec/LOG-FORMAT.md.
            """)

    @Option(
        name: .long,
        help: "The coordinator's data_dir (the log is its log/ directory), or the log directory itself.")
    var dataDir: String

    @Flag(name: .long, help: "Only inspect and report what a repair would drop.")
    var dryRun = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "notice"

    func run() throws {
        bootstrapLogging(level: logLevel)
        do {
            let report = try DurableLog.repair(
                directory: logDirectory, dryRun: dryRun, logger: Logger(label: "flotilla.coordinator.repair"))
            print(report)
        } catch {
            FileHandle.standardError.write(Data("flotilla-coordinator repair-log: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `DIR/log` when DIR is a coordinator's data directory, else DIR: the path a refused
    /// open names is the log directory itself.
    private var logDirectory: String {
        var isDirectory: ObjCBool = false
        let nested = (dataDir as NSString).appendingPathComponent("log")
        return FileManager.default.fileExists(atPath: nested, isDirectory: &isDirectory) && isDirectory.boolValue
            ? nested : dataDir
    }
}

private func bootstrapLogging(level name: String) {
    let level = Logger.Level(rawValue: name) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// Parses and runs the command line. A function, not top-level code: there, `run()` on an
/// `AsyncParsableCommand` resolves to the synchronous requirement, which only prints help.
func runCommandLine() async {
    do {
        var command = try CoordinatorCommand.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        CoordinatorCommand.exit(withError: error)
    }
}

await runCommandLine()
