/// When the coordinator writes its next snapshot. A snapshot costs time in
/// proportion to the state (every job and worker is serialized), so with a
/// fixed interval a coordinator holding 100,000 jobs would spend more on
/// snapshots the longer it runs. The interval therefore grows with the state:
/// at least `every` entries, and at least as many entries as the state holds
/// records, which keeps snapshot work per entry bounded and restart replay no
/// longer than the state itself (the rule Redis uses to rewrite its AOF).
struct SnapshotSchedule: Sendable, Equatable {
    /// `log.snapshot_every`: the fewest entries between two snapshots.
    let every: UInt64

    /// Entries to wait after the last snapshot, for a state of `records` jobs and workers.
    func interval(records: Int) -> UInt64 { max(every, UInt64(max(records, 0))) }

    func isDue(lastApplied: UInt64, lastSnapshot: UInt64, records: Int) -> Bool {
        lastApplied >= lastSnapshot + interval(records: records)
    }
}
