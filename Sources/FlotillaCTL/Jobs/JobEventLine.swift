import FlotillaProto

/// One watch event as one line, e.g.
/// `12:00:01.234 RUNNING attempt 2 on w-3 step 40/100 resumed from checkpoint step 30 - attempt 2 running on w-3`.
struct JobEventLine {
    let event: Flotilla_V1_JobEvent

    init(_ event: Flotilla_V1_JobEvent) {
        self.event = event
    }

    var text: String {
        var parts = [TimeText.clock(event.atUnixMs), event.state.name]
        if event.attempt > 0 {
            parts.append("attempt \(event.attempt)" + (event.workerID.isEmpty ? "" : " on \(event.workerID)"))
        }
        let step = JobProgress.text(step: event.step, total: event.totalSteps)
        if step != "-" { parts.append("step \(step)") }
        // Only state changes carry the whole record, and with it where the attempt resumed.
        if event.hasJob, let attempt = event.job.attempts.last(where: { $0.number == event.attempt }),
            attempt.resumedFromStep > 0
        {
            parts.append("resumed from checkpoint step \(attempt.resumedFromStep)")
        }
        // Progress events say no more than the step already printed.
        if !event.message.isEmpty, event.message != "step \(step)" {
            parts.append("- " + event.message)
        }
        return parts.joined(separator: " ")
    }
}

/// "40/100", "40" when the total is unknown, "-" before any progress.
enum JobProgress {
    static func text(step: UInt64, total: UInt64) -> String {
        if total > 0 { return "\(step)/\(total)" }
        return step > 0 ? "\(step)" : "-"
    }
}
