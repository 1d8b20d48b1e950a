import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTransport
import Foundation
import Logging

/// The worker: registers with the coordinators, heartbeats, runs what the
/// directive stream assigns through the model's executor, reports progress,
/// checkpoints and results, and reconnects for as long as it runs.
///
///     let agent = try WorkerAgent(configuration: configuration, gpus: gpus, logger: logger)
///     Task { await agent.run() }       // returns after drain(reason:) completes, or when cancelled
///     await agent.drain(reason: "SIGTERM")
public actor WorkerAgent {
    public let configuration: WorkerConfiguration
    public let gpus: [Flotilla_V1_Gpu]
    let executors: [String: any AttemptExecutor]
    let models: [String: ModelConfiguration]
    let client: ClusterClient
    let backoff: Backoff
    /// Answers to reports and heartbeats must come within this.
    let requestTimeout: Duration
    var logger: Logger

    /// Set by the first registration; kept across reconnects (the coordinator keeps it too).
    var workerID: String?
    /// As the coordinator set it at registration (the core keeps it for fencing).
    var heartbeatInterval: Duration { core.fencing.heartbeatInterval }
    /// Fencing and shutdown decisions (a pure value; this actor carries them out).
    var core = WorkerCore()
    /// By job id: a job has at most one live attempt.
    var attempts: [String: LiveAttempt] = [:]
    var outbox = Outbox()
    /// The connection of the current session (registered and subscribed), if any.
    var session: FlotillaConnection?
    var sessionInterrupt: AsyncStream<String>.Continuation?
    var courierRunning = false
    /// No new work: drained by an operator, or shutting down.
    var draining = false
    /// Set by `drain(reason:)`: the shutdown's reason, for the drain notice.
    var shutdownReason: String?
    var finished: Bool { core.finished }
    var random = SystemRandomNumberGenerator()
    /// A drill's fault being played (freeze, slow), if any.
    var drills = DrillFaults()
    /// What a kill-worker drill does: SIGKILL to this process (tests of the agent replace it).
    let drillKill: @Sendable () -> Void

    /// - Parameters:
    ///   - executors: by model name; nil builds them from `configuration.models`.
    ///   - backoff: waits between reconnect attempts.
    public init(configuration: WorkerConfiguration, gpus: [Flotilla_V1_Gpu], tls: TLSContext,
                executors: [String: any AttemptExecutor]? = nil, logger: Logger = Logger(label: "flotilla.worker"),
                backoff: Backoff = Backoff(initialMilliseconds: 200, multiplier: 2, maximumMilliseconds: 5_000),
                transport: TransportConfiguration = .init(), requestTimeout: Duration = .seconds(10),
                drillKill: @escaping @Sendable () -> Void = { kill(getpid(), SIGKILL) }) {
        self.drillKill = drillKill
        self.configuration = configuration
        self.gpus = gpus
        self.executors = executors ?? Self.executors(for: configuration, logger: logger)
        self.models = Dictionary(configuration.models.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
        for warning in configuration.warnings { logger.warning("\(warning)") }
        // A lease renewal to a supervisor that just died must not kill the worker.
        signal(SIGPIPE, SIG_IGN)
        self.backoff = backoff
        self.requestTimeout = requestTimeout
        // One connect try per call: the agent's own loop backs off and logs each failure.
        self.client = ClusterClient(
            endpoints: configuration.coordinators, tls: tls,
            local: LocalNode(identity: configuration.identity, software: WorkerSoftware.version),
            expectedRole: .coordinator, configuration: transport, backoff: backoff, connectAttempts: 1)
    }

    /// Loads the TLS material named by the configuration.
    public init(configuration: WorkerConfiguration, gpus: [Flotilla_V1_Gpu], logger: Logger = Logger(label: "flotilla.worker")) throws {
        let tls = try TLSContext(
            configuration: TLSConfiguration(certificatePath: configuration.certificatePath,
                                            privateKeyPath: configuration.privateKeyPath,
                                            trustRootsPath: configuration.trustRootsPath),
            mode: .client,
            ownIdentity: OwnIdentity(cluster: configuration.cluster, role: .worker, name: configuration.name))
        self.init(configuration: configuration, gpus: gpus, tls: tls, logger: logger)
    }

    /// One executor per configured model.
    public static func executors(for configuration: WorkerConfiguration, logger: Logger) -> [String: any AttemptExecutor] {
        var executors: [String: any AttemptExecutor] = [:]
        for model in configuration.models {
            switch model.executor {
            case .simulated(let stepDuration, let failureRate):
                executors[model.name] = SimulatedExecutor(stepDuration: stepDuration, failureRate: failureRate, seed: configuration.seed)
            case .process(let command, let environment):
                executors[model.name] = ProcessExecutor(
                    command: command, environment: environment, logger: logger,
                    leftovers: LeftoverJobs(dataDirectory: configuration.dataDirectory))
            }
        }
        return executors
    }

    /// Connects, registers and serves until a drain completes (or the task is
    /// cancelled: then running attempts are killed at once). Connection losses
    /// are retried forever with backoff.
    public func run() async {
        // SIGHUP rotates the certificate for the next connection; a bad new one is refused.
        let logger = self.logger
        let reloader = SighupReloader(contexts: [client.tls]) { line in logger.notice("\(line)") }
        defer { reloader.cancel() }
        // What a previous incarnation left running dies before this one registers.
        let leftovers = LeftoverJobs(dataDirectory: configuration.dataDirectory).stopAll()
        if !leftovers.isEmpty {
            logger.warning("stopped job processes a previous worker left running", metadata: ["flotilla.pids": "\(leftovers)"])
        }
        let leases = Task { await self.renewLeases() }
        defer { leases.cancel() }
        var failures = 0
        while !finished && !Task.isCancelled {
            let registered = await runSession(failures: failures)
            if finished || Task.isCancelled { break }
            failures = registered ? 0 : failures + 1
            try? await Task.sleep(for: .milliseconds(Int64(backoff.delay(attempt: failures, using: &random))))
        }
        if !finished {
            for attempt in attempts.values { attempt.execution?.cancel(grace: .zero) }
            attempts = [:]
        }
        session = nil
        await client.close()
        logger.info("worker stopped")
    }

    /// The attempts this worker runs now, as the coordinator wants them listed.
    public var runningAttempts: [Flotilla_V1_RunningAttempt] {
        attempts.values.sorted { $0.jobID < $1.jobID }.map(\.running)
    }

    /// The id the coordinator gave this worker, once registered.
    public var registeredID: String? { workerID }

    public var isDraining: Bool { draining }

    var freeGPUCount: Int {
        let held = Set(attempts.values.flatMap(\.gpuIndices))
        return gpus.filter { !held.contains($0.index) }.count
    }
}
