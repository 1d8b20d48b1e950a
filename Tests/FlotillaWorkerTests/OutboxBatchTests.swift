import FlotillaProto
@testable import FlotillaWorker
import Testing

/// Which reports the courier sends together (`Outbox.nextBatch`).
@Suite struct OutboxBatchTests {
    static func token(_ attempt: UInt32) -> Flotilla_V1_FencingToken {
        Flotilla_V1_FencingToken.with { $0.term = 1; $0.attempt = attempt }
    }

    static func result(_ job: String, error: String = "") -> Outbox.Report {
        .result(Flotilla_V1_AttemptResult.with { $0.jobID = job; $0.token = token(1); $0.state = .succeeded; $0.error = error })
    }

    @Test func reportsBeforeADrainNoticeGoTogetherAndTheNoticeGoesAlone() {
        var outbox = Outbox()
        outbox.append(Self.result("j1"), jobID: "j1", token: Self.token(1))
        outbox.progress(Flotilla_V1_ProgressReport.with { $0.jobID = "j2"; $0.token = Self.token(1); $0.step = 3 })
        outbox.append(.drain(Flotilla_V1_DrainNotice.with { $0.workerID = "w" }), jobID: nil, token: nil)
        outbox.append(Self.result("j3"), jobID: "j3", token: Self.token(1))
        #expect(outbox.nextBatch.map(\.jobID) == ["j1", "j2"])
        #expect(outbox.nextBatch.allSatisfy { $0.report.batched != nil })
        for entry in outbox.nextBatch { outbox.remove(entry.id) }
        let notice = outbox.nextBatch
        #expect(notice.count == 1 && notice[0].report.batched == nil)
        outbox.remove(notice[0].id)
        #expect(outbox.nextBatch.map(\.jobID) == ["j3"])
    }

    @Test func aBatchStaysWithinItsCountAndBytes() {
        var outbox = Outbox()
        for n in 0..<100 { outbox.append(Self.result("j\(n)"), jobID: "j\(n)", token: Self.token(1)) }
        #expect(outbox.nextBatch.count == Outbox.maxBatchReports)

        var large = Outbox()
        let error = String(repeating: "e", count: 16 << 10)
        for n in 0..<100 { large.append(Self.result("j\(n)", error: error), jobID: "j\(n)", token: Self.token(1)) }
        let batch = large.nextBatch
        let bytes = batch.reduce(0) { $0 + $1.report.estimatedBytes }
        #expect(batch.count > 1 && batch.count < Outbox.maxBatchReports)
        #expect(bytes <= Outbox.maxBatchBytes)
        // The estimate bounds the encoded size.
        for entry in batch {
            let encoded = (try? entry.report.batched!.serializedBytes() as [UInt8])?.count ?? .max
            #expect(encoded <= entry.report.estimatedBytes)
        }
    }

    @Test func progressInFlightIsNotRewrittenAndTheDrainNoticeGoesAfterTheBatchInFlight() {
        var outbox = Outbox()
        outbox.progress(Flotilla_V1_ProgressReport.with { $0.jobID = "j1"; $0.token = Self.token(1); $0.step = 1 })
        outbox.append(Self.result("j2"), jobID: "j2", token: Self.token(1))
        outbox.inFlight = Set(outbox.nextBatch.map(\.id))
        outbox.progress(Flotilla_V1_ProgressReport.with { $0.jobID = "j1"; $0.token = Self.token(1); $0.step = 2 })
        #expect(outbox.entries.count == 3, "the in-flight progress report was rewritten")
        outbox.prependDrain(Flotilla_V1_DrainNotice.with { $0.workerID = "w" })
        guard case .drain = outbox.entries[2].report else {
            Issue.record("the drain notice should follow the two reports in flight")
            return
        }
    }
}
