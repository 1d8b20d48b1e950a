import FlotillaConfig

/// One model a worker serves and how it runs it (a `models` table item).
public struct ModelConfiguration: Sendable, Hashable {
    public enum Executor: Sendable, Hashable {
        /// Steps of a set duration with a set failure rate: demos, tests, benchmarks.
        case simulated(stepDuration: Duration, failureRate: Double)
        /// The model's command, talking back by lines on stdout.
        case process(command: [String], environment: [String: String])
    }

    public var name: String
    public var executor: Executor
    /// Steps when an assignment leaves `steps` at 0.
    public var defaultSteps: UInt64
    /// Checkpoint every so many steps when an assignment leaves `checkpoint_every` at 0.
    public var checkpointEvery: UInt64

    public init(name: String, executor: Executor, defaultSteps: UInt64 = 100, checkpointEvery: UInt64 = 10) {
        self.name = name
        self.executor = executor
        self.defaultSteps = defaultSteps
        self.checkpointEvery = checkpointEvery
    }

    /// Reads one item of `models`: {name, executor, default_steps, checkpoint_every,
    /// step_duration, failure_rate (simulated), command, env (process)}.
    /// `key` is the item's place in the file, e.g. `models[2]`, for messages.
    init(reader: ConfigReader, key: String) throws {
        name = try reader.string("name", default: "")
        guard !name.isEmpty else { throw ConfigError(key: "\(key).name", "is required") }
        defaultSteps = UInt64(try reader.integer("default_steps", default: 100, in: 0...100_000_000))
        checkpointEvery = UInt64(try reader.integer("checkpoint_every", default: 10, in: 0...100_000_000))
        let kind = try reader.string("executor", default: "simulated")
        switch kind {
        case "simulated":
            let step = try reader.milliseconds("step_duration", default: 100)
            let failureRate = try reader.double("failure_rate", default: 0, in: 0...1)
            executor = .simulated(stepDuration: .milliseconds(Int64(clamping: step)), failureRate: failureRate)
        case "process":
            let command = try reader.strings("command")
            guard !command.isEmpty else {
                throw ConfigError(key: "\(key).command", "is required for a process model (a list: program and arguments)")
            }
            executor = .process(command: command, environment: try reader.stringMap("env"))
        default:
            throw ConfigError(key: "\(key).executor", "expected simulated or process, got \"\(kind)\"")
        }
    }
}
