@testable import FlotillaWorker
import FlotillaProto
import Foundation

/// Polls `condition` until it holds or `timeout` passes (then throws).
func eventually(_ what: String, timeout: Duration = .seconds(15), _ condition: @Sendable () async -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !(await condition()) {
        guard clock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Every event of an execution, up to and including `.finished` (bounded by `timeout`).
func events(of execution: any AttemptExecution, timeout: Duration = .seconds(20)) async throws -> [ExecutionEvent] {
    let collected = Locked<[ExecutionEvent]>([])
    let reader = Task {
        for await event in execution.events { collected.withLock { $0.append(event) } }
    }
    defer { reader.cancel() }
    try await eventually("the execution to finish", timeout: timeout) {
        collected.current.contains { if case .finished = $0 { return true } else { return false } }
    }
    return collected.current
}

/// A recorder of events as they come, for tests that act in the middle of a run.
final class EventLog: Sendable {
    let events = Locked<[ExecutionEvent]>([])
    private let reader: Task<Void, Never>

    init(_ execution: any AttemptExecution) {
        let events = self.events
        reader = Task { for await event in execution.events { events.withLock { $0.append(event) } } }
    }

    var current: [ExecutionEvent] { events.current }

    var lastStep: UInt64 {
        current.reduce(0) { last, event in
            if case .progress(let step, _) = event { return step }
            return last
        }
    }

    var outcome: ExecutionOutcome? {
        for event in current { if case .finished(let outcome) = event { return outcome } }
        return nil
    }

    func finished(timeout: Duration = .seconds(20)) async throws -> ExecutionOutcome {
        try await eventually("the execution to finish", timeout: timeout) { self.outcome != nil }
        return outcome!
    }
}

func token(term: UInt64 = 1, attempt: UInt32 = 1) -> Flotilla_V1_FencingToken {
    var token = Flotilla_V1_FencingToken()
    token.term = term
    token.attempt = attempt
    return token
}

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let stepperScript = repositoryRoot.appendingPathComponent("cluster-configs/jobs/stepper.sh").path
