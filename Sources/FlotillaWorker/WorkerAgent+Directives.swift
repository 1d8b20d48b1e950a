import FlotillaProto
import Foundation
import Logging

/// What the coordinator asks for on the directive stream (PROTOCOL.md §11.3).
extension WorkerAgent {
    /// A `WorkerDirectives` frame: each in order, in one turn of the agent.
    func handle(_ directives: [Flotilla_V1_WorkerDirective]) {
        for directive in directives { handle(directive) }
    }

    func handle(_ directive: Flotilla_V1_WorkerDirective) {
        if case .drill(let fault)? = directive.directive { return handleDrill(fault) }
        // A frozen worker (a drill) hears nothing, as a hung host would not.
        if drills.frozen(at: .now) != nil {
            logger.notice("frozen by a drill: directive ignored")
            return
        }
        switch directive.directive {
        case .assign(let assignment)?:
            assign(assignment)
        case .stop(let target)? where core.admitsTerm(target.token.term):
            stop(jobID: target.jobID, token: target.token, grace: grace(directive.graceMs, default: configuration.stopGrace))
        case .checkpoint(let target)? where core.admitsTerm(target.token.term):
            checkpoint(jobID: target.jobID, token: target.token, grace: grace(directive.graceMs, default: configuration.stopGrace))
        case .stop?, .checkpoint?:
            logger.notice("directive from an older leader term ignored", metadata: ["flotilla.newest_term": "\(core.newestTerm)"])
        case .drain?:
            startDraining(by: "the coordinator")
        case .drill?, nil:
            break
        }
    }

    private func grace(_ milliseconds: UInt32, default value: Duration) -> Duration {
        milliseconds > 0 ? .milliseconds(Int64(milliseconds)) : value
    }

    /// Accepts an assignment, verifies its checkpoint off the actor, then starts it.
    private func assign(_ assignment: Flotilla_V1_Assignment) {
        let jobID = assignment.jobID
        let model = models[assignment.model]
        let executor = executors[assignment.model]
        let admission = core.admit(
            assignment.token, running: attempts[jobID]?.token, servesModel: model != nil && executor != nil,
            gpuIndices: assignment.gpuIndices, ownGPUs: Set(gpus.map(\.index)), draining: draining)
        let superseding: Bool
        switch admission {
        case .ignore(let reason):
            logger.debug("assignment ignored", metadata: ["flotilla.job": "\(jobID)", "flotilla.reason": "\(reason)"])
            return
        case .start(let supersedes), .refuse(_, let supersedes):
            superseding = supersedes
        }
        if superseding, let existing = attempts[jobID] {
            silence(jobID: jobID, token: existing.token, because: "superseded by attempt \(assignment.token.attempt)")
        }
        let startStep = assignment.hasResumeFrom ? assignment.resumeFrom.step : 0
        let total = assignment.steps > 0 ? assignment.steps : (model?.defaultSteps ?? 0)
        attempts[jobID] = LiveAttempt(assignment: assignment, startStep: startStep, totalSteps: total)
        switch admission {
        case .refuse(.unknownModel, _):
            return end(jobID, token: assignment.token, .failed(
                exitCode: 0, error: "model \(assignment.model) is not served by this worker", retryable: false, modelFault: false))
        case .refuse(.draining, _):
            return end(jobID, token: assignment.token, .preempted(error: "worker \(configuration.name) is draining"))
        case .refuse(.missingGPU(let missing), _):
            return end(jobID, token: assignment.token, .failed(
                exitCode: 0, error: "GPU \(missing) is not on worker \(configuration.name)", retryable: true, modelFault: false))
        case .start, .ignore:
            break
        }
        guard let model, let executor else { return }
        let checkpointDirectory = configuration.checkpointDirectory
        let leaseTimeout = core.fencing.leaseTimeout
        // Detached: hashing a large checkpoint must not hold up the actor.
        Task.detached {
            var resume: AttemptLaunch.ResumePoint?
            if assignment.hasResumeFrom {
                do {
                    let path = try CheckpointVerifier.verify(assignment.resumeFrom, within: checkpointDirectory)
                    resume = AttemptLaunch.ResumePoint(path: path, step: assignment.resumeFrom.step)
                } catch {
                    await self.checkpointUnusable(assignment, error: "\(error)")
                    return
                }
            }
            var launch = AttemptLaunch(assignment: assignment, model: model, resume: resume, checkpointDirectory: checkpointDirectory)
            launch.leaseTimeout = leaseTimeout
            await self.launch(launch, on: executor)
        }
    }

    private func checkpointUnusable(_ assignment: Flotilla_V1_Assignment, error: String) {
        guard attempts[assignment.jobID]?.token == assignment.token else { return }
        logger.warning("resume checkpoint failed verification; not resuming", metadata: [
            "flotilla.job": "\(assignment.jobID)", "flotilla.attempt": "\(assignment.token.attempt)", "error": "\(error)",
        ])
        end(assignment.jobID, token: assignment.token, .failed(exitCode: 0, error: error, retryable: true, modelFault: false),
            checkpointUnusable: true)
    }

    private func launch(_ launch: AttemptLaunch, on executor: any AttemptExecutor) {
        guard var attempt = attempts[launch.jobID], attempt.token == launch.token, attempt.phase == .assigned else { return }
        if attempt.cancelRequested {
            return end(launch.jobID, token: launch.token, .cancelled)
        }
        let execution: any AttemptExecution
        do {
            execution = try executor.start(launch)
        } catch {
            return end(launch.jobID, token: launch.token, .failed(
                exitCode: 0, error: "cannot start \(launch.model): \(error)", retryable: true, modelFault: true))
        }
        attempt.execution = execution
        attempt.phase = .running
        attempt.totalSteps = launch.steps
        attempts[launch.jobID] = attempt
        logger.info("assignment started", metadata: [
            "flotilla.job": "\(launch.jobID)", "flotilla.attempt": "\(launch.token.attempt)", "flotilla.model": "\(launch.model)",
            "flotilla.steps": "\(launch.steps)", "flotilla.resume_step": "\(launch.startStep)",
            "flotilla.gpus": "\(launch.gpuIndices.map(String.init).joined(separator: ","))",
        ])
        // The first report moves the attempt from ASSIGNED to RUNNING.
        sendProgress(launch.jobID)
        pump(execution, jobID: launch.jobID, token: launch.token)
    }

    /// A stop directive: stop cleanly within `grace`, then report CANCELLED.
    private func stop(jobID: String, token: Flotilla_V1_FencingToken, grace: Duration) {
        guard var attempt = attempts[jobID], attempt.token == token, !attempt.isEnded else { return }
        attempt.cancelRequested = true
        attempts[jobID] = attempt
        logger.info("stopping attempt", metadata: ["flotilla.job": "\(jobID)", "flotilla.attempt": "\(token.attempt)",
                                                   "flotilla.grace_ms": "\(grace.milliseconds)"])
        if let execution = attempt.execution {
            execution.cancel(grace: grace)
        }
        // Not started yet: `launch` sees the request and reports CANCELLED.
    }

    /// A checkpoint directive (preemption, stall, drain): checkpoint, report, stop.
    func checkpoint(jobID: String, token: Flotilla_V1_FencingToken, grace: Duration) {
        guard var attempt = attempts[jobID], attempt.token == token else { return }
        switch attempt.phase {
        case .running:
            attempt.phase = .checkpointing
            attempts[jobID] = attempt
            logger.info("checkpoint requested", metadata: ["flotilla.job": "\(jobID)", "flotilla.attempt": "\(token.attempt)",
                                                          "flotilla.grace_ms": "\(grace.milliseconds)"])
            attempt.execution?.checkpointAndStop(grace: grace)
        case .assigned:
            // Nothing ran, so nothing to save: hand it back as it came.
            end(jobID, token: token, .preempted(error: "asked to checkpoint before it started"))
        case .checkpointing, .reporting:
            break
        }
    }

    /// No new work from now on; running attempts carry on.
    func startDraining(by whom: String) {
        guard !draining else { return }
        draining = true
        logger.notice("draining: taking no new work", metadata: ["flotilla.by": "\(whom)", "flotilla.running": "\(attempts.count)"])
    }

    /// Stops an attempt at once and forgets it: the coordinator will not take
    /// another report for it (ReportAck.stop_attempt, RegisterWorkerResponse.stop,
    /// HeartbeatResponse.stop, a newer attempt of the same job).
    func silence(jobID: String, token: Flotilla_V1_FencingToken, because reason: String) {
        outbox.removeAll(jobID: jobID, token: token)
        guard let attempt = attempts[jobID], attempt.token == token else { return }
        attempts[jobID] = nil
        attempt.execution?.cancel(grace: .zero)
        logger.warning("attempt stopped without reporting", metadata: [
            "flotilla.job": "\(jobID)", "flotilla.attempt": "\(token.attempt)", "flotilla.reason": "\(reason)",
        ])
        workChanged()
    }
}
