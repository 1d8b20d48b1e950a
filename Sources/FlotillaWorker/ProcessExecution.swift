import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One running process job: its stdout turned into events, the tail of its
/// stderr kept for the failure report, and the signals of a stop.
final class ProcessExecution: AttemptExecution {
    /// Lines of stderr kept for AttemptResult.error.
    static let errorTailLines = 20
    /// Bytes of that tail sent: the coordinator keeps it for every failed attempt
    /// (and refuses more than 8 KiB), so one verbose job cannot bloat the state.
    static let errorTailBytes = 4_096

    let events: AsyncStream<ExecutionEvent>
    private let continuation: AsyncStream<ExecutionEvent>.Continuation
    private let process: SpawnedProcess
    private let request = Locked<StopRequest?>(nil)
    private let errorTail = Locked<[String]>([])
    private let escalation = Locked<Task<Void, Never>?>(nil)

    enum StopRequest { case cancel, checkpoint }

    init(process: SpawnedProcess, attemptDirectory: String, leftovers: LeftoverJobs? = nil, logger: Logger) {
        (events, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        self.process = process
        let continuation = self.continuation
        let output = LineReader(descriptor: process.standardOutput) { line in
            switch JobLine(line) {
            case .progress(let step, let total):
                continuation.yield(.progress(step: step, total: total))
            case .checkpoint(let step, let path):
                let absolute = path.hasPrefix("/") ? path : attemptDirectory + "/" + path
                continuation.yield(.checkpoint(step: step, path: absolute))
            case .other(let text):
                logger.debug("job output", metadata: ["flotilla.line": "\(text)"])
            }
        }
        let tail = errorTail
        let errors = LineReader(descriptor: process.standardError) { line in
            logger.debug("job stderr", metadata: ["flotilla.line": "\(line)"])
            tail.withLock { lines in
                lines.append(line)
                if lines.count > Self.errorTailLines { lines.removeFirst(lines.count - Self.errorTailLines) }
            }
        }
        Task { [self] in
            let status = await process.exit()
            // Whatever the job left running in its group goes with it; that also
            // closes pipes a leftover child would otherwise hold open.
            process.signalGroup(SIGKILL)
            leftovers?.forget(pgid: process.pid)
            escalation.current?.cancel()
            _ = await output.waitUntilFinished(timeout: .seconds(2))
            _ = await errors.waitUntilFinished(timeout: .seconds(2))
            continuation.yield(.finished(outcome(status)))
            continuation.finish()
        }
    }

    /// SIGTERM now, SIGKILL to the group after `grace`.
    func renewLease() {
        process.renewLease()
    }

    func cancel(grace: Duration) {
        request.withLock { $0 = .cancel }
        if grace <= .zero {
            process.signalGroup(SIGKILL)
            return
        }
        process.signal(SIGTERM)
        escalate([(grace, SIGKILL)])
    }

    /// SIGUSR1 now (write a checkpoint, print it, exit), SIGTERM after half the
    /// grace, SIGKILL to the group after all of it.
    func checkpointAndStop(grace: Duration) {
        let first = request.withLock { value -> Bool in
            guard value == nil else { return false }
            value = .checkpoint
            return true
        }
        guard first else { return }
        process.signal(SIGUSR1)
        escalate([(grace / 2, SIGTERM), (grace - grace / 2, SIGKILL)])
    }

    private func escalate(_ steps: [(wait: Duration, signal: Int32)]) {
        let process = self.process
        let task = Task {
            for step in steps {
                do { try await Task.sleep(for: step.wait) } catch { return }
                if step.signal == SIGKILL { process.signalGroup(SIGKILL) } else { process.signal(step.signal) }
            }
        }
        escalation.withLock { previous in
            previous?.cancel()
            previous = task
        }
    }

    /// Exit 0 is success; any exit after a stop request is that stop; anything
    /// else is the model's failure.
    private func outcome(_ status: SpawnedProcess.Status) -> ExecutionOutcome {
        switch request.current {
        case .checkpoint?: return .stoppedForCheckpoint
        case .cancel?: return .cancelled
        case nil:
            if status == .exited(0) { return .succeeded }
            var tail = errorTail.current.joined(separator: "\n")
            if tail.utf8.count > Self.errorTailBytes {
                tail = "…" + String(decoding: tail.utf8.suffix(Self.errorTailBytes - 3), as: UTF8.self)
            }
            if tail.isEmpty { tail = "the job ended with \(status) and printed nothing on stderr" }
            return .failed(exitCode: status.exitCode, errorTail: tail, modelFault: true)
        }
    }
}
