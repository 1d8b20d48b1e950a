import FlotillaProto
import Foundation
import Logging

/// An execution's events become reports: progress (throttled), checkpoints
/// (hashed by the worker) and one result.
extension WorkerAgent {
    /// How an attempt ended, as AttemptResult says it.
    enum Ending {
        case succeeded
        case failed(exitCode: Int32, error: String, retryable: Bool, modelFault: Bool)
        case preempted(error: String)
        case cancelled
    }

    /// Feeds the execution's events to the actor in order, hashing checkpoints
    /// on the way (detached: a large file must not hold up the actor).
    func pump(_ execution: any AttemptExecution, jobID: String, token: Flotilla_V1_FencingToken) {
        let directory = configuration.checkpointDirectory
        Task.detached { [self] in
            for await event in execution.events {
                switch event {
                case .progress(let step, let total):
                    await progressed(jobID, token, step: step, total: total)
                case .checkpoint(let step, let path):
                    do {
                        guard CheckpointVerifier.resolve(path, within: directory) != nil else {
                            throw CheckpointDigest.Failure(path: path, reason: "outside the checkpoint directory \(directory)")
                        }
                        let digest = try CheckpointDigest(file: path)
                        await checkpointed(jobID, token, step: step, path: path, digest: digest)
                    } catch {
                        await logCheckpointFailure(jobID, token, step: step, error: "\(error)")
                    }
                case .finished(let outcome):
                    await finished(jobID, token, outcome)
                }
            }
        }
    }

    private func current(_ jobID: String, _ token: Flotilla_V1_FencingToken) -> LiveAttempt? {
        guard let attempt = attempts[jobID], attempt.token == token, !attempt.isEnded else { return nil }
        return attempt
    }

    private func progressed(_ jobID: String, _ token: Flotilla_V1_FencingToken, step: UInt64, total: UInt64) {
        guard var attempt = current(jobID, token) else { return }
        attempt.step = step
        if total > 0 { attempt.totalSteps = total }
        let interval = configuration.progressInterval
        let now = ContinuousClock.now
        if let last = attempt.lastProgressAt, now - last < interval {
            if !attempt.progressFlushScheduled {
                attempt.progressFlushScheduled = true
                let wait = interval - (now - last)
                Task {
                    try? await Task.sleep(for: wait)
                    self.flushProgress(jobID, token)
                }
            }
            attempts[jobID] = attempt
        } else {
            attempts[jobID] = attempt
            sendProgress(jobID)
        }
    }

    /// The throttled step, once the interval has passed: the last step is never held back.
    private func flushProgress(_ jobID: String, _ token: Flotilla_V1_FencingToken) {
        guard var attempt = current(jobID, token) else { return }
        attempt.progressFlushScheduled = false
        attempts[jobID] = attempt
        if attempt.reportedStep != attempt.step { sendProgress(jobID) }
    }

    /// Queues a ProgressReport with the attempt's current step.
    func sendProgress(_ jobID: String) {
        guard var attempt = attempts[jobID], !attempt.isEnded else { return }
        var report = Flotilla_V1_ProgressReport()
        report.jobID = jobID
        report.token = attempt.token
        report.step = attempt.step
        report.totalSteps = attempt.totalSteps
        report.state = attempt.phase == .checkpointing ? .checkpointing : .running
        attempt.reportedStep = attempt.step
        attempt.lastProgressAt = .now
        attempts[jobID] = attempt
        outbox.progress(report)
        kickCourier()
    }

    private func checkpointed(_ jobID: String, _ token: Flotilla_V1_FencingToken, step: UInt64, path: String,
                              digest: CheckpointDigest) {
        guard let attempt = current(jobID, token) else { return }
        if attempt.reportedStep != attempt.step { sendProgress(jobID) }
        var checkpoint = Flotilla_V1_Checkpoint()
        checkpoint.jobID = jobID
        checkpoint.attempt = token.attempt
        checkpoint.step = step
        checkpoint.uri = CheckpointVerifier.uri(of: path)
        checkpoint.sha256Hex = digest.sha256Hex
        checkpoint.sizeBytes = digest.sizeBytes
        checkpoint.createdUnixMs = UInt64(max(0, Date().timeIntervalSince1970 * 1_000))
        var report = Flotilla_V1_CheckpointReport()
        report.token = token
        report.checkpoint = checkpoint
        outbox.append(.checkpoint(report), jobID: jobID, token: token)
        logger.info("checkpoint written", metadata: [
            "flotilla.job": "\(jobID)", "flotilla.attempt": "\(token.attempt)", "flotilla.step": "\(step)",
            "flotilla.uri": "\(checkpoint.uri)", "flotilla.bytes": "\(digest.sizeBytes)", "flotilla.sha256": "\(digest.sha256Hex)",
        ])
        kickCourier()
    }

    private func logCheckpointFailure(_ jobID: String, _ token: Flotilla_V1_FencingToken, step: UInt64, error: String) {
        logger.warning("checkpoint not reported: cannot read it", metadata: [
            "flotilla.job": "\(jobID)", "flotilla.attempt": "\(token.attempt)", "flotilla.step": "\(step)", "error": "\(error)",
        ])
    }

    private func finished(_ jobID: String, _ token: Flotilla_V1_FencingToken, _ outcome: ExecutionOutcome) {
        guard let attempt = current(jobID, token) else { return }
        switch outcome {
        case .succeeded:
            end(jobID, token: token, .succeeded)
        case .failed(let exitCode, let errorTail, let modelFault):
            end(jobID, token: token, .failed(exitCode: exitCode, error: errorTail, retryable: true, modelFault: modelFault))
        case .stoppedForCheckpoint where attempt.cancelRequested, .cancelled:
            end(jobID, token: token, .cancelled)
        case .stoppedForCheckpoint:
            end(jobID, token: token, .preempted(error: ""))
        }
    }

    /// Queues the attempt's result; the attempt stays listed until it is acknowledged.
    func end(_ jobID: String, token: Flotilla_V1_FencingToken, _ ending: Ending, checkpointUnusable: Bool = false) {
        guard let started = current(jobID, token) else { return }
        // The last step goes out even when the throttle held it back.
        if started.execution != nil, started.reportedStep != started.step { sendProgress(jobID) }
        guard var attempt = current(jobID, token) else { return }
        var result = Flotilla_V1_AttemptResult()
        result.jobID = jobID
        result.token = token
        result.step = attempt.step
        result.checkpointUnusable = checkpointUnusable
        switch ending {
        case .succeeded:
            result.state = .succeeded
        case .failed(let exitCode, let error, let retryable, let modelFault):
            result.state = .failed
            result.exitCode = exitCode
            result.error = error
            result.retryable = retryable
            result.modelFault = modelFault
        case .preempted(let error):
            result.state = .preempted
            result.error = error
        case .cancelled:
            result.state = .cancelled
        }
        attempt.phase = .reporting(result.state)
        attempt.execution = nil
        attempts[jobID] = attempt
        outbox.append(.result(result), jobID: jobID, token: token)
        var metadata: Logger.Metadata = [
            "flotilla.job": "\(jobID)", "flotilla.attempt": "\(token.attempt)", "flotilla.state": "\(result.state)",
            "flotilla.step": "\(result.step)",
        ]
        if result.state == .failed {
            metadata["flotilla.exit_code"] = "\(result.exitCode)"
            metadata["error"] = "\(result.error)"
        }
        logger.info("attempt finished", metadata: metadata)
        kickCourier()
    }
}
