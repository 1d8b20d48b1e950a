import FlotillaProto

/// Wakes the planner when something it plans from has changed (a job was
/// submitted or finished, a worker registered, came back or was lost), so a
/// queued job is placed within a log sync of its submission instead of at the
/// next tick. Wakes coalesce: any number of them while a round runs make one
/// more round. The tick still wakes it, for the timers (suspicion, stalls,
/// backoff, retention) that no event announces.
final class PlannerWakeup: Sendable {
    let rounds: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (rounds, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func wake() { continuation.yield() }

    func finish() { continuation.finish() }

    /// Whether applying `command` can give the planner something new to do. Its own
    /// commands (assignments, checkpoint requests) and reports of progress cannot.
    static func wakes(for command: Flotilla_V1_Command) -> Bool {
        switch command.kind {
        case .submitJob, .cancelJob, .finish, .preempt, .registerWorker, .heartbeat, .suspect, .lost, .drain,
             .setTenant, .configureBreakers, .breakerAction:
            return true
        case .termStarted, .assign, .progress, .checkpoint, .requestCheckpoint, .pruneJobs, .drillStarted, .drillEnded, nil:
            return false
        }
    }
}
