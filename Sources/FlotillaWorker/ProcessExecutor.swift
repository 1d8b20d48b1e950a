import Foundation
import Logging

/// Runs the model's command for each attempt. The job talks back by lines on
/// stdout (`PROGRESS <step> <total>`, `CHECKPOINT <step> <path>`) and learns
/// what to do from its environment (`JobEnvironment`).
public struct ProcessExecutor: AttemptExecutor {
    /// The program and its arguments.
    public var command: [String]
    /// Added to the job's environment (the attempt's FLOTILLA_* variables win).
    public var environment: [String: String]
    public var logger: Logger
    /// The worker executable whose `supervise` mode runs each job under a lease; nil: jobs
    /// run unsupervised (then a hung worker's jobs outlive it).
    public var supervisor: String?
    /// Where running process groups are recorded for a restarted worker to stop.
    public var leftovers: LeftoverJobs?

    public init(command: [String], environment: [String: String] = [:], logger: Logger = Logger(label: "flotilla.worker.process"),
                supervisor: String? = JobSupervisor.executable, leftovers: LeftoverJobs? = nil) {
        precondition(!command.isEmpty, "a process executor needs a command")
        self.command = command
        self.environment = environment
        self.logger = logger
        self.supervisor = supervisor
        self.leftovers = leftovers
    }

    public func start(_ launch: AttemptLaunch) throws -> any AttemptExecution {
        let directory = launch.jobCheckpointDirectory + "/a\(launch.token.attempt)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        var launch = launch
        if let resume = launch.resume {
            launch.resume?.path = URL(fileURLWithPath: resume.path).standardizedFileURL.path
        }
        let variables = JobEnvironment.make(for: launch, attemptDirectory: absolute, modelEnvironment: environment)
        let supervision = supervisor.flatMap { executable in
            launch.leaseTimeout.map { SpawnedProcess.Supervision(executable: executable, leaseTimeout: $0) }
        }
        let process = try SpawnedProcess.spawn(command[0], arguments: Array(command.dropFirst()), environment: variables,
                                               supervision: supervision)
        leftovers?.record(pgid: process.pid)
        var logger = self.logger
        logger[metadataKey: "flotilla.job"] = "\(launch.jobID)"
        logger[metadataKey: "flotilla.attempt"] = "\(launch.token.attempt)"
        logger[metadataKey: "flotilla.pid"] = "\(process.pid)"
        return ProcessExecution(process: process, attemptDirectory: absolute, leftovers: leftovers, logger: logger)
    }
}
