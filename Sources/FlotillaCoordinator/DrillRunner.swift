import FlotillaCoordinatorState
import FlotillaDrills
import FlotillaProto
import FlotillaTransport
import Logging

/// Runs failover drills on the leader, one at a time (PROTOCOL.md §14): plans
/// the drill against the state (`DrillPlanner`), records it in the log,
/// sends the fault through the workers' directive streams, watches the
/// recovery (`DrillMonitor`), undoes a lasting fault if it aborts, and
/// records the report. The watching outlives the request that started it.
actor DrillRunner {
    let core: CoordinatorCore
    let configuration: CoordinatorConfiguration
    let metrics: CoordinatorMetrics
    let logger: Logger
    /// How often the recovery is observed: the resolution of its timings.
    let pollInterval: Duration
    private var watching: Task<Flotilla_V1_DrillReport, Never>?

    init(core: CoordinatorCore, configuration: CoordinatorConfiguration, metrics: CoordinatorMetrics, logger: Logger,
         pollInterval: Duration = .milliseconds(100)) {
        self.core = core
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Runs the drill `request` asks for; the report comes at the end, or once
    /// the fault is injected when `detach` is set. Refusals are reports
    /// (REFUSED, with the reason); malformed requests are errors.
    func run(_ request: Flotilla_V1_DrillRequest, startedBy: String) async throws -> Flotilla_V1_DrillReport {
        guard configuration.drillsEnabled else {
            throw FlotillaError(.failedPrecondition, "drills are disabled on this coordinator (set drills.enabled: true in its configuration)")
        }
        switch request.kind {
        case .regionFailover:
            throw FlotillaError(.failedPrecondition, "region-failover drills need region routers, which this version does not run")
        case .leaderFailover:
            break
        default:
            guard DrillProfile.of(request.kind) != nil else {
                throw FlotillaError(.invalidArgument, "unknown drill kind \(request.kind.rawValue); see PROTOCOL.md §14.3")
            }
        }
        if let running = await core.read({ $0.runningDrill }) {
            throw FlotillaError(.failedPrecondition, "drill \(running.id) (\(DrillProfile.of(running.kind)?.name ?? "\(running.kind)")) is still running; one drill at a time")
        }
        if request.kind == .leaderFailover { return try await runLeaderFailover(request, startedBy: startedBy) }
        let health = configuration.health
        let planned = await core.read { state in
            Result { () throws(DrillPlanError) -> DrillPlan in try DrillPlanner.plan(request, state: state, health: health) }
        }
        let plan: DrillPlan
        switch planned {
        case .success(let success): plan = success
        case .failure(.invalid(let message)): throw FlotillaError(.invalidArgument, message)
        case .failure(.notFound(let message)): throw FlotillaError(.notFound, message)
        case .failure(.refused(let reason, let radius)):
            logger.notice("drill refused", metadata: ["flotilla.drill_kind": "\(request.kind)", "flotilla.reason": "\(reason)"])
            return Self.refusal(request, reason: reason, radius: radius)
        }
        let baseline = await core.read { Flotilla_V1_DrillBaseline($0) }
        var report = plan.startingReport(startedBy: startedBy, baseline: baseline)
        if request.dryRun {
            report.verdict = .dryRun
            report.reason = "dry run: would fault \(plan.targetNames.joined(separator: ", ")); nothing was injected"
            return report
        }
        let outcome = try await core.proposeChecked(.drillStarted(report, at: await core.now()))
        guard let id = outcome.drillID, let recorded = await core.read({ $0.drill(id) }) else {
            throw FlotillaError(.internal, "the drill was not recorded")
        }
        report = recorded
        await core.watchStale(true)
        let before = await core.now()
        let phase = plan.profile.kind == .slowWorker ? (name: "before", from: before - min(before, plan.durationMs), to: before) : nil
        var monitor = DrillMonitor(plan: plan, report: report,
                                   observation: await core.observe(plan, tracking: [], phase: phase, workersLost: 0))
        for (worker, fault) in plan.faults(drillID: id) where !(await core.send(fault, to: worker)) {
            monitor.abort("worker \(worker) has no directive stream, so the fault could not be sent", at: await core.now())
        }
        logger.notice("drill started", metadata: [
            "flotilla.drill": "\(id)", "flotilla.drill_kind": "\(plan.profile.name)",
            "flotilla.targets": "\(plan.targetNames.joined(separator: ","))", "flotilla.by": "\(startedBy)",
        ])
        let started = monitor.report
        let task = Task { await self.watch(monitor) }
        watching = task
        return request.detach ? started : await task.value
    }

    var isWatching: Bool { watching != nil }
    func startWatching(_ task: Task<Flotilla_V1_DrillReport, Never>) { watching = task }
    func stoppedWatching() { watching = nil }

    /// Stops watching (the coordinator shuts down): the drill ends ABORTED.
    func stop() async {
        watching?.cancel()
        _ = await watching?.value
    }

    private func watch(_ initial: DrillMonitor) async -> Flotilla_V1_DrillReport {
        var monitor = initial
        while case .watching = monitor.decision {
            try? await Task.sleep(for: pollInterval)
            if Task.isCancelled {
                monitor.abort("the coordinator shut down during the drill", at: await core.now())
                break
            }
            let phase = monitor.phaseDue(at: await core.now())
            let lost = phase.map { monitor.workersLost(from: $0.from, to: $0.to) } ?? 0
            _ = monitor.observe(await core.observe(monitor.plan, tracking: monitor.trackedJobs, phase: phase, workersLost: lost))
        }
        let report = monitor.report
        if monitor.aborted {
            for (worker, fault) in monitor.plan.endFaults(drillID: report.id) { _ = await core.send(fault, to: worker) }
        }
        await core.watchStale(false)
        do {
            _ = try await core.propose([.drillEnded(report, at: await core.now())])
        } catch {
            logger.error("drill report could not be recorded", metadata: ["flotilla.drill": "\(report.id)", "error": "\(error)"])
        }
        metrics.drillEnded(report)
        logger.notice("drill ended", metadata: [
            "flotilla.drill": "\(report.id)", "flotilla.verdict": "\(report.verdict)", "flotilla.reason": "\(report.reason)",
            "flotilla.detection_ms": "\(report.detectionMs)", "flotilla.recovery_max_ms": "\(report.recoveryMaxMs)",
        ])
        watching = nil
        return report
    }

    static func refusal(_ request: Flotilla_V1_DrillRequest, reason: String, radius: BlastRadius) -> Flotilla_V1_DrillReport {
        var report = Flotilla_V1_DrillReport()
        report.kind = request.kind
        report.target = request.target.isEmpty ? (request.zone.isEmpty ? request.jobID : request.zone) : request.target
        report.hypothesis = DrillProfile.of(request.kind)?.hypothesis ?? ""
        report.verdict = .refused
        report.reason = reason
        report.blastRadius = radius.lines
        return report
    }
}
