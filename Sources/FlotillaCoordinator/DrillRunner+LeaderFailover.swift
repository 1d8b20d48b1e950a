import FlotillaCoordinatorState
import FlotillaDrills
import FlotillaProto
import FlotillaTransport
import Foundation

/// The leader-failover drill (PROTOCOL.md §14.8) in two halves: the leader records it and
/// takes itself away (SIGKILL, or a leadership transfer); the next leader, on starting its
/// term, finds the drill running, watches, judges and records the report.
extension DrillRunner {
    func runLeaderFailover(_ request: Flotilla_V1_DrillRequest, startedBy: String) async throws -> Flotilla_V1_DrillReport {
        guard let members = await core.failoverMembers() else {
            throw FlotillaError(.failedPrecondition, "leader-failover needs replicated coordinators (raft.peers lists more than this one)")
        }
        guard request.mode == .kill || request.mode == .transfer else {
            throw FlotillaError(.invalidArgument, "unknown failover mode \(request.mode.rawValue); see PROTOCOL.md §14.8")
        }
        let leader = configuration.name
        let health = configuration.health
        let planned = await core.read { state in
            Result { () throws(DrillPlanError) -> Flotilla_V1_DrillReport in
                try LeaderFailover.plan(request, leader: leader, members: members, state: state, health: health)
            }
        }
        var report: Flotilla_V1_DrillReport
        switch planned {
        case .success(let success): report = success
        case .failure(.invalid(let message)): throw FlotillaError(.invalidArgument, message)
        case .failure(.notFound(let message)): throw FlotillaError(.notFound, message)
        case .failure(.refused(let reason, let radius)):
            logger.notice("drill refused", metadata: ["flotilla.drill_kind": "leader-failover", "flotilla.reason": "\(reason)"])
            return Self.refusal(request, reason: reason, radius: radius)
        }
        report.startedBy = startedBy
        let how = request.mode == .transfer ? "hand leadership over from" : "kill"
        if request.dryRun {
            report.verdict = .dryRun
            report.reason = "dry run: would \(how) the leader \(leader); nothing was injected"
            return report
        }
        let outcome = try await core.proposeChecked(.drillStarted(report, at: await core.now()))
        guard let id = outcome.drillID, let recorded = await core.read({ $0.drill(id) }) else {
            throw FlotillaError(.internal, "the drill was not recorded")
        }
        logger.notice("drill started", metadata: [
            "flotilla.drill": "\(id)", "flotilla.drill_kind": "leader-failover", "flotilla.targets": "\(leader)",
            "flotilla.mode": "\(request.mode == .transfer ? "transfer" : "kill")", "flotilla.by": "\(startedBy)",
        ])
        if request.mode == .transfer {
            do {
                _ = try await core.transferLeadership(to: nil)
            } catch {
                var aborted = recorded
                aborted.verdict = .aborted
                aborted.reason = "the leader could not hand over: \(error)"
                _ = try? await core.propose([.drillEnded(aborted, at: await core.now())])
                metrics.drillEnded(aborted)
                return aborted
            }
        } else {
            // The answer goes out first; then this process dies as a crash would (no handover,
            // no flush, its sockets closed by the kernel).
            Task.detached {
                try? await Task.sleep(for: .milliseconds(Int64(LeaderFailover.killDelayMs)))
                kill(getpid(), SIGKILL)
            }
        }
        return recorded
    }

    /// This member began serving as leader of `term`: a leader-failover drill still running
    /// is its to judge. (Any other running drill was ended ABORTED by `startTerm`: its
    /// faults were the old leader's to follow.)
    func leaderStarted(term: UInt64) async {
        guard !isWatching, let running = await core.read({ $0.runningDrill }), running.kind == .leaderFailover else { return }
        startWatching(Task { await self.followFailover(running, term: term) })
    }

    private func followFailover(_ started: Flotilla_V1_DrillReport, term: UInt64) async -> Flotilla_V1_DrillReport {
        await core.watchStale(true)
        var seen: LeaderFailover.Observation?
        while !Task.isCancelled {
            guard let now = await core.failoverObservation(started, term: term) else {
                // No longer leading this term: the next leader takes the drill up.
                stoppedWatching()
                return started
            }
            seen = now
            if LeaderFailover.isDue(started, now, health: configuration.health) { break }
            try? await Task.sleep(for: pollInterval)
        }
        await core.watchStale(false)
        // Stopped (the process shuts down): the drill stays running for the next leader.
        guard let seen, !Task.isCancelled else { stoppedWatching(); return started }
        let report = LeaderFailover.judge(started, seen)
        await record(report)
        stoppedWatching()
        return report
    }

    /// Proposes the drill's end and says so in the metrics and the log.
    private func record(_ report: Flotilla_V1_DrillReport) async {
        do {
            _ = try await core.propose([.drillEnded(report, at: await core.now())])
        } catch {
            logger.error("drill report could not be recorded", metadata: ["flotilla.drill": "\(report.id)", "error": "\(error)"])
            return
        }
        metrics.drillEnded(report)
        logger.notice("drill ended", metadata: [
            "flotilla.drill": "\(report.id)", "flotilla.verdict": "\(report.verdict)", "flotilla.reason": "\(report.reason)",
            "flotilla.elected_ms": "\(report.electedMs)", "flotilla.first_commit_ms": "\(report.firstCommitMs)",
        ])
    }
}
