import FlotillaCoordinatorState
import FlotillaPKI
import FlotillaProto
import FlotillaRaftHost
import FlotillaScheduler
import FlotillaTLS
import FlotillaTransport
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A running coordinator: the log and state, the protocol server, the HTTP
/// endpoints and the planner loop. As a `Service` it runs until graceful
/// shutdown (SIGTERM), then stops accepting, ends streams and closes the log.
public final class CoordinatorProcess: Service, Sendable {
    public let configuration: CoordinatorConfiguration
    let core: CoordinatorCore
    let metrics: CoordinatorMetrics
    let logger: Logger
    let tls: TLSContext
    /// Replicated: the client side of the same certificate, for the links to the other members.
    let peerTLS: TLSContext?
    private let planner: CoordinatorPlanner
    private let scaling: CoordinatorScaling

    /// Opens the data directory (replaying the log) and loads the TLS material.
    /// Throws for a locked data directory, a damaged log or unreadable certificates.
    public init(configuration: CoordinatorConfiguration, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "flotilla.coordinator")) throws {
        self.configuration = configuration
        self.logger = logger
        for warning in configuration.warnings { logger.warning("\(warning)") }
        self.metrics = CoordinatorMetrics()
        self.tls = try TLSContext(
            configuration: TLSConfiguration(certificatePath: configuration.certificatePath,
                                            privateKeyPath: configuration.privateKeyPath,
                                            trustRootsPath: configuration.trustRootsPath),
            mode: .server,
            ownIdentity: OwnIdentity(cluster: configuration.cluster, role: .coordinator, name: configuration.name))
        self.peerTLS = configuration.raft.isReplicated ? try TLSContext(
            configuration: TLSConfiguration(certificatePath: configuration.certificatePath,
                                            privateKeyPath: configuration.privateKeyPath,
                                            trustRootsPath: configuration.trustRootsPath),
            mode: .client,
            ownIdentity: OwnIdentity(cluster: configuration.cluster, role: .coordinator, name: configuration.name)) : nil
        self.core = try CoordinatorCore(configuration: configuration, clock: clock, metrics: metrics, logger: logger)
        self.scaling = CoordinatorScaling(metrics: metrics, logger: logger)
        self.planner = CoordinatorPlanner(health: configuration.health,
                                          placement: Scheduler(policy: configuration.scheduler))
    }

    /// Ports actually bound (useful when the configuration asks for port 0).
    public struct BoundPorts: Sendable {
        public var protocolPort: Int
        public var httpPort: Int
    }

    public func run() async throws {
        try await run(onListening: { _ in })
    }

    public func run(onListening: @Sendable (BoundPorts) async -> Void) async throws {
        let identity = NodeIdentity(cluster: configuration.cluster, role: .coordinator, name: configuration.name,
                                    region: configuration.region.isEmpty ? nil : configuration.region)
        if let peerTLS {
            let core = self.core
            let others = configuration.raft.peers.filter { $0.name != configuration.name }
            // A peer that cannot be reached within an election timeout is treated as gone:
            // the connect gives up and a cut link fails, so both are retried at once when
            // the network heals instead of after the kernel's backoff.
            var links = configuration.transport
            let electionTimeout = TimeAmount.milliseconds(Int64(configuration.raft.electionTimeoutMs))
            links.unacknowledgedTimeout = electionTimeout
            links.handshakeTimeout = min(links.handshakeTimeout, electionTimeout)
            await core.attach(RaftTransport(
                peers: others, tls: peerTLS, local: LocalNode(identity: identity), configuration: links,
                logger: logger, unreachable: { member in Task { await core.reportUnreachable(member) } }))
        }
        try await core.start(breakers: configuration.breakers, tenants: configuration.tenants)
        let drills = DrillRunner(core: core, configuration: configuration, metrics: metrics, logger: logger)
        await core.setOnLeading { term in Task { await drills.leaderStarted(term: term) } }
        let service = CoordinatorService(core: core, configuration: configuration, logger: logger, scaling: scaling,
                                         drills: drills)
        let server = try await FlotillaServer.start(
            host: configuration.listen.host, port: configuration.listen.port, tls: tls,
            local: LocalNode(identity: identity), service: service, configuration: configuration.transport, logger: logger)
        let http: HealthHTTPServer
        do {
            http = try await HealthHTTPServer.start(
                host: configuration.httpListen.host, port: configuration.httpListen.port, endpoints: endpoints(),
                limits: configuration.http)
        } catch {
            await server.close()
            throw error
        }
        // SIGHUP rotates the certificate for new connections; a bad new one is refused.
        let logger = self.logger
        let reloader = SighupReloader(contexts: [tls] + (peerTLS.map { [$0] } ?? [])) { line in logger.notice("\(line)") }
        defer { reloader.cancel() }
        let term = await core.term
        logger.notice("coordinator serving", metadata: [
            "flotilla.name": "\(configuration.name)", "flotilla.term": "\(term)",
            "flotilla.listen": "\(configuration.listen.host):\(server.port)",
            "flotilla.http": "\(configuration.httpListen.host):\(http.port)",
            "flotilla.certificate_expires": "\(tls.certificate.map { "\($0.notAfter)" } ?? "unknown")",
        ])
        await onListening(BoundPorts(protocolPort: server.port, httpPort: http.port))

        // Plan until shutdown; cancellation (shutdown) ends the loop.
        await cancelWhenGracefulShutdown {
            await self.planLoop()
        }
        logger.info("coordinator shutting down")
        await handOverLeadership()
        await drills.stop()
        await server.close()
        await http.close()
        await core.close()
        logger.info("coordinator stopped")
    }

    /// SIGTERM on a leader: leadership goes to the most caught-up member first, so that a
    /// rolling restart fails no request (they are redirected, not dropped).
    private func handOverLeadership() async {
        guard await core.leading else { return }
        do {
            let leader = try await core.transferLeadership(to: nil)
            logger.notice("leadership handed over before stopping", metadata: ["flotilla.raft.leader": "\(leader)"])
        } catch {
            logger.warning("could not hand leadership over before stopping", metadata: ["error": "\(error)"])
        }
    }

    /// Each round, woken by the tick or by a change (`PlannerWakeup`): the
    /// planner's commands for the state as it now stands.
    private func planLoop() async {
        let tick = Duration.milliseconds(Int64(configuration.schedulerTickMs))
        let wakeup = core.wakeup
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                wakeup.wake()
            }
        }
        defer { ticker.cancel() }
        // A pruning interval shorter than the TTL, so a short TTL (a test's 1 s) still acts promptly.
        var retention = configuration.retention
        if retention.jobTTLMs > 0 { retention.everyMs = min(retention.everyMs, retention.jobTTLMs) }
        var lastPrunedAt: UInt64?
        var lastRound = Duration.zero
        for await _ in wakeup.rounds {
            if Task.isCancelled { break }
            // A round walks the queue: rest as long as the last one's planning took before
            // the next, so planning takes at most half the core actor however many events
            // arrive, and the events of the rest share one round. Planning, not the wait for
            // its commands to commit: a round plans from the projection of the log, which
            // holds the last round's commands as soon as they are appended (see
            // `CoordinatorCore+Planning.swift`).
            try? await Task.sleep(for: lastRound)
            // Replicated, only the leader plans (a follower's state is the leader's, behind).
            guard await core.plansHere else { continue }
            let round = await withCheckedContinuation { planned in
                Task { [core, planner, scaling, retention, lastPrunedAt] in
                    await core.planRound(with: planner, scaling: scaling, retention: retention, lastPrunedAt: lastPrunedAt,
                                         planned: planned) { commands, result in self.logPlanned(commands, result) }
                }
            }
            lastRound = min(round.took, tick)
            if let prunedAt = round.prunedAt { lastPrunedAt = prunedAt }
        }
    }

    private func logPlanned(_ commands: [Flotilla_V1_Command], _ result: Result<[CommandOutcome], any Error>) {
        let outcomes: [CommandOutcome]
        switch result {
        case .success(let planned): outcomes = planned
        case .failure(let error): return logger.error("planned commands failed", metadata: ["error": "\(error)"])
        }
        for (command, outcome) in zip(commands, outcomes) where outcome.isAccepted {
            switch command.kind {
            case .assign(let assign):
                logger.info("job assigned", metadata: ["flotilla.job": "\(assign.jobID)", "flotilla.worker_id": "\(assign.workerID)",
                                                       "flotilla.gpus": "\(assign.gpuIndices)"])
            case .lost(let lost):
                logger.warning("worker lost", metadata: ["flotilla.worker_id": "\(lost.workerID)", "flotilla.reason": "\(lost.reason)"])
            case .suspect(let suspect):
                logger.warning("worker suspect", metadata: ["flotilla.worker_id": "\(suspect.workerID)"])
            case .requestCheckpoint(let request) where request.reason == .preemption:
                logger.notice("job preempted: checkpoint requested", metadata: ["flotilla.job": "\(request.jobID)"])
            case .requestCheckpoint(let request):
                logger.warning("job stalled: checkpoint requested", metadata: ["flotilla.job": "\(request.jobID)"])
            case .preempt(let preempt):
                logger.warning("attempt stopped after checkpoint grace", metadata: ["flotilla.job": "\(preempt.jobID)"])
            case .pruneJobs where outcome.removedJobs > 0:
                logger.info("retention removed jobs", metadata: ["flotilla.removed": "\(outcome.removedJobs)"])
            default:
                break
            }
        }
    }

    private func endpoints() -> HealthEndpoints {
        let core = self.core
        let metrics = self.metrics
        return HealthEndpoints(
            healthy: { await core.failure == nil },
            ready: {
                if let failure = await core.failure { return (false, "log failed: \(failure)") }
                guard await core.isServing else { return (false, "starting") }
                return await core.replicaReadiness ?? (true, "ready")
            },
            metrics: {
                let now = await core.now()
                let (summary, byState, breakers) = await core.read { state in
                    (state.summary, state.workers.reduce(into: [WorkerState: Int]()) { $0[$1.state, default: 0] += 1 },
                     state.breakers.map { $0.info(at: now, policy: state.breakerPolicy) })
                }
                return metrics.render(summary: summary, workersByState: byState, ready: await core.isServing,
                                      breakers: breakers, raft: await core.raftGauges)
            })
    }
}
