import FlotillaProto
import FlotillaWire
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

        /// An upper bound on its encoded size: the variable-length fields plus room for the rest.
        var estimatedBytes: Int {
            switch self {
            case .progress(let report): return 128 + report.jobID.utf8.count
            case .checkpoint(let report): return 512 + report.checkpoint.uri.utf8.count + report.checkpoint.jobID.utf8.count
            case .result(let result): return 512 + result.error.utf8.count + result.jobID.utf8.count
            case .drain(let notice): return 128 + notice.reason.utf8.count
            }
        }

        /// As an element of a `ReportBatch` (the drain notice is never batched).
        var batched: Flotilla_V1_WorkerReport? {
            var report = Flotilla_V1_WorkerReport()
            switch self {
            case .progress(let progress): report.progress = progress
            case .checkpoint(let checkpoint): report.checkpoint = checkpoint
            case .result(let result): report.result = result
            case .drain: return nil
            }
            return report
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
    /// The entries the courier is sending now: never rewritten underneath it.
    var inFlight: Set<UInt64> = []

    var first: Entry? { entries.first }
    var isEmpty: Bool { entries.isEmpty }

    mutating func append(_ report: Report, jobID: String?, token: Flotilla_V1_FencingToken?) {
        entries.append(Entry(id: nextID, jobID: jobID, token: token, report: report))
        nextID += 1
    }

    /// The drain notice goes before everything else.
    mutating func prependDrain(_ notice: Flotilla_V1_DrainNotice) {
        guard !entries.contains(where: { if case .drain = $0.report { return true } else { return false } }) else { return }
        let index = entries.prefix { inFlight.contains($0.id) }.count
        entries.insert(Entry(id: nextID, jobID: nil, token: nil, report: .drain(notice)), at: index)
        nextID += 1
    }

    /// Queues a progress report, replacing a queued (not in-flight) one of the same attempt.
    mutating func progress(_ report: Flotilla_V1_ProgressReport) {
        if let index = entries.firstIndex(where: {
            !inFlight.contains($0.id) && $0.report.isProgress && $0.jobID == report.jobID && $0.token == report.token
        }) {
            entries[index].report = .progress(report)
        } else {
            append(.progress(report), jobID: report.jobID, token: report.token)
        }
    }

    /// At most this many reports in one `ReportBatch`, and about this many bytes
    /// (the coordinator takes 64 and 1 MiB, PROTOCOL.md §7.3).
    static let maxBatchReports = MessageKind.reportBatch.repeatedLimit?.max ?? 64
    static let maxBatchBytes = MessageKind.reportBatch.maxRequestPayload * 3 / 4   // room for the estimate

    /// What to send next, from the front: the drain notice alone (it is answered by
    /// a plain Ack), else the reports before the next drain notice, within the
    /// batch limits. One entry goes as its own request, several as a `ReportBatch`.
    var nextBatch: [Entry] {
        guard let first = entries.first else { return [] }
        if case .drain = first.report { return [first] }
        var batch: [Entry] = []
        var bytes = 0
        for entry in entries {
            if case .drain = entry.report { break }
            bytes += entry.report.estimatedBytes
            if !batch.isEmpty, batch.count == Self.maxBatchReports || bytes > Self.maxBatchBytes { break }
            batch.append(entry)
        }
        return batch
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
        entries.removeAll { $0.report.isProgress && !inFlight.contains($0.id) }
    }
}
