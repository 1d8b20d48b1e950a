import FlotillaProto
import SwiftProtobuf

/// Reports waiting for their answer, in the order they must reach the
/// coordinator. Checkpoints, results and the drain notice stay until answered,
/// across reconnects (the coordinator treats a repeat as a duplicate); progress
/// is only ever the latest step, so a stale one is simply dropped.
struct Outbox {
    enum Report: Sendable {
        case progress(Flotilla_V1_ProgressReport)
        case checkpoint(Flotilla_V1_CheckpointReport)
        case result(Flotilla_V1_AttemptResult)
        case drain(Flotilla_V1_DrainNotice)

        var message: any SwiftProtobuf.Message {
            switch self {
            case .progress(let report): return report
            case .checkpoint(let report): return report
            case .result(let result): return result
            case .drain(let notice): return notice
            }
        }

        var isProgress: Bool {
            if case .progress = self { return true }
            return false
        }
    }

    struct Entry: Sendable {
        let id: UInt64
        /// The attempt it speaks for (nil for the drain notice).
        let jobID: String?
        let token: Flotilla_V1_FencingToken?
        var report: Report
        /// Answers "not now" (accepted = false, stop_attempt = false) so far.
        var refusals = 0
    }

    private(set) var entries: [Entry] = []
    private var nextID: UInt64 = 1
    /// The entry the courier is sending now: never rewritten underneath it.
    var inFlight: UInt64?

    var first: Entry? { entries.first }
    var isEmpty: Bool { entries.isEmpty }

    mutating func append(_ report: Report, jobID: String?, token: Flotilla_V1_FencingToken?) {
        entries.append(Entry(id: nextID, jobID: jobID, token: token, report: report))
        nextID += 1
    }

    /// The drain notice goes before everything else.
    mutating func prependDrain(_ notice: Flotilla_V1_DrainNotice) {
        guard !entries.contains(where: { if case .drain = $0.report { return true } else { return false } }) else { return }
        let index = entries.first?.id == inFlight && inFlight != nil ? 1 : 0
        entries.insert(Entry(id: nextID, jobID: nil, token: nil, report: .drain(notice)), at: index)
        nextID += 1
    }

    /// Queues a progress report, replacing a queued (not in-flight) one of the same attempt.
    mutating func progress(_ report: Flotilla_V1_ProgressReport) {
        if let index = entries.firstIndex(where: {
            $0.id != inFlight && $0.report.isProgress && $0.jobID == report.jobID && $0.token == report.token
        }) {
            entries[index].report = .progress(report)
        } else {
            append(.progress(report), jobID: report.jobID, token: report.token)
        }
    }

    mutating func remove(_ id: UInt64) {
        entries.removeAll { $0.id == id }
    }

    /// How many "not now" answers the entry has had.
    func refusals(of id: UInt64) -> Int {
        entries.first(where: { $0.id == id })?.refusals ?? 0
    }

    @discardableResult
    mutating func refused(_ id: UInt64) -> Int {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return 0 }
        entries[index].refusals += 1
        return entries[index].refusals
    }

    /// Everything about one attempt (told to stop: nothing more may be sent for it).
    mutating func removeAll(jobID: String, token: Flotilla_V1_FencingToken) {
        entries.removeAll { $0.jobID == jobID && $0.token == token }
    }

    /// After a lost connection: progress is stale, the next report restates it.
    mutating func dropProgress() {
        entries.removeAll { $0.report.isProgress && $0.id != inFlight }
    }
}
