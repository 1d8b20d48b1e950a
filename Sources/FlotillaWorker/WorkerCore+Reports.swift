import FlotillaProto
import FlotillaTransport

/// What to do with a report once the coordinator answered it (or did not): the courier's
/// rules, decided by the core, carried out by the agent's courier.
extension WorkerCore {
    /// "Not now" answers (neither accepted nor stop_attempt) a report may get before it
    /// is given up: the coordinator's state is behind, or the attempt was declared lost
    /// and registering again did not reclaim it.
    public static let maximumRefusals = 5

    public enum ReportAnswer: Sendable, Equatable {
        /// A ReportAck (nil for reports answered with a plain Ack, such as DrainNotice).
        case answered(Flotilla_V1_ReportAck?)
        case failed(FlotillaError, connectionAlive: Bool)
    }

    public enum ReportVerdict: Sendable, Equatable {
        /// Delivered: forget it (a result's attempt is no longer this worker's).
        case delivered
        /// The coordinator says the attempt is over: stop it without reporting.
        case stopAttempt(because: String)
        /// Refused for what it is (INVALID_ARGUMENT, PERMISSION_DENIED): resending cannot help.
        case drop(because: String)
        /// Not accepted yet: register again (which may reclaim the attempt), then resend.
        case registerAgainAndResend(because: String)
        /// Refused `maximumRefusals` times: give it up.
        case giveUp(because: String)
        /// The connection or the coordinator failed: reconnect, resending it then (progress
        /// is dropped instead: a newer one will follow). `closeClient` after NOT_LEADER.
        case reconnect(dropIt: Bool, closeClient: Bool, because: String)
    }

    /// The verdict on one report. `refusals` counts its earlier "not now" answers.
    public static func verdict(on answer: ReportAnswer, isProgress: Bool, refusals: Int) -> ReportVerdict {
        switch answer {
        case .failed(let error, let alive):
            if isTransient(error) || !alive {
                return .reconnect(dropIt: isProgress, closeClient: error.code == .notLeader,
                                  because: "a report could not be delivered: \(error)")
            }
            return .drop(because: "\(error)")
        case .answered(nil):
            return .delivered
        case .answered(let ack?):
            if ack.stopAttempt { return .stopAttempt(because: "the coordinator refused its report: \(ack.message)") }
            if ack.accepted || isProgress { return .delivered }
            if refusals + 1 >= maximumRefusals { return .giveUp(because: ack.message) }
            return .registerAgainAndResend(because: "report not accepted (\(ack.message)); registering again")
        }
    }

    /// Errors after which the same report may succeed on another connection.
    public static func isTransient(_ error: FlotillaError) -> Bool {
        switch error.code {
        case .unavailable, .deadlineExceeded, .notLeader, .cancelled, .resourceExhausted: return true
        default: return false
        }
    }
}
