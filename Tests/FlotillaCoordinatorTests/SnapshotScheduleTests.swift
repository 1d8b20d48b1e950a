import Testing
@testable import FlotillaCoordinator

@Suite struct SnapshotScheduleTests {
    let schedule = SnapshotSchedule(every: 10_000)

    @Test func aSmallStateSnapshotsEveryConfiguredInterval() {
        #expect(schedule.interval(records: 500) == 10_000)
        #expect(!schedule.isDue(lastApplied: 19_999, lastSnapshot: 10_000, records: 500))
        #expect(schedule.isDue(lastApplied: 20_000, lastSnapshot: 10_000, records: 500))
    }

    @Test func aLargeStateWaitsAsManyEntriesAsItHoldsRecords() {
        // 100,000 jobs: a snapshot every 10,000 entries would serialize ten
        // times the entries written; it waits 100,000 instead.
        #expect(schedule.interval(records: 100_000) == 100_000)
        #expect(!schedule.isDue(lastApplied: 99_999, lastSnapshot: 0, records: 100_000))
        #expect(schedule.isDue(lastApplied: 100_000, lastSnapshot: 0, records: 100_000))
    }

    @Test func snapshotWorkPerEntryStaysBoundedAsTheStateGrows() {
        // Grow a state by one record per entry to a million and count the
        // records serialized: with the fixed interval it is quadratic, here linear.
        var lastSnapshot: UInt64 = 0
        var serialized = 0
        for index in 1...1_000_000 where schedule.isDue(lastApplied: UInt64(index), lastSnapshot: lastSnapshot, records: index) {
            serialized += index
            lastSnapshot = UInt64(index)
        }
        #expect(serialized <= 2 * 1_000_000 + 10_000)
    }
}
