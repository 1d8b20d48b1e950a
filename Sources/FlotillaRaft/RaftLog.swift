/// The core's view of the log: entries after the last snapshot, which of them are on stable
/// storage, committed and applied. The shell's storage holds the same entries; this copy lets
/// the core answer term lookups and build append messages without I/O.
struct RaftLog: Sendable {
    /// The latest snapshot: entries up to its index are gone from `entries`.
    private(set) var snapshot: Snapshot {
        didSet { (snapshotIndex, snapshotTerm) = (snapshot.index, snapshot.term) }
    }
    /// The snapshot's position, kept apart so that term lookups do not touch its data.
    private(set) var snapshotIndex: UInt64
    private(set) var snapshotTerm: UInt64
    private(set) var entries: [Entry] = []
    private(set) var committed: UInt64
    var applied: UInt64
    /// Entries up to here are on stable storage; later ones are handed out by the next Ready.
    private(set) var stable: UInt64
    /// A snapshot received from the leader that the shell has not yet stored and applied.
    private(set) var unstableSnapshot: Snapshot?

    init(snapshot: Snapshot, entries: [Entry], commit: UInt64) {
        self.snapshot = snapshot
        snapshotIndex = snapshot.index
        snapshotTerm = snapshot.term
        self.entries = entries.filter { $0.index > snapshot.index }
        let last = snapshotIndex + UInt64(self.entries.count)
        committed = min(max(commit, snapshot.index), last)
        applied = snapshot.index
        stable = last
    }

    var firstIndex: UInt64 { snapshotIndex + 1 }
    var lastIndex: UInt64 { snapshotIndex + UInt64(entries.count) }
    var lastTerm: UInt64 { term(at: lastIndex) ?? 0 }

    /// The term of the entry at `index`, or nil when it is compacted away or beyond the end.
    func term(at index: UInt64) -> UInt64? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)].term
    }

    func entry(at index: UInt64) -> Entry? {
        guard index >= firstIndex, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)]
    }

    func matches(index: UInt64, term: UInt64) -> Bool { self.term(at: index) == term }

    /// §5.4.1: a candidate's log is at least as up to date as this one.
    func isUpToDate(lastIndex candidateIndex: UInt64, lastTerm candidateTerm: UInt64) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries from `low` on, at most `maxBytes` (but always at least one) and `maxCount`; nil when
    /// `low` is compacted away, so the caller must send a snapshot.
    func entries(from low: UInt64, maxBytes: Int, maxCount: Int) -> [Entry]? {
        guard low >= firstIndex else { return nil }
        guard low <= lastIndex else { return [] }
        var result: [Entry] = []
        var bytes = 0
        var index = Int(low - firstIndex)
        while index < entries.count, result.count < maxCount {
            let size = entries[index].size
            if !result.isEmpty, bytes + size > maxBytes { break }
            result.append(entries[index])
            bytes += size
            index += 1
        }
        return result
    }

    /// Entries the shell must store: everything after `stable`.
    var unstableEntries: [Entry] {
        guard stable < lastIndex else { return [] }
        return Array(entries[Int(stable + 1 - firstIndex)...])
    }

    var hasUnstableEntries: Bool { stable < lastIndex }
    var hasEntriesToApply: Bool { max(applied + 1, firstIndex) <= min(committed, stable) }

    /// Committed entries the shell has not applied, only those already on stable storage (as
    /// etcd's): the shell may apply them before it stores the same Ready's new entries, so a
    /// commit is not held up by an unrelated sync.
    var entriesToApply: [Entry] {
        let start = max(applied + 1, firstIndex)
        let last = min(committed, stable)
        guard start <= last else { return [] }
        return Array(entries[Int(start - firstIndex)...Int(last - firstIndex)])
    }

    /// The first of `incoming` that is new or disagrees with this log, or nil when all are here.
    func firstConflict(in incoming: [Entry]) -> Int? {
        incoming.firstIndex { !matches(index: $0.index, term: $0.term) }
    }

    /// The last index at or below `index` whose term is at most `term`: where a leader and a
    /// follower that disagree at `index` may still agree (etcd's findConflictByTerm).
    func lastIndex(atOrBelow index: UInt64, withTermAtMost term: UInt64) -> UInt64 {
        var candidate = min(index, lastIndex)
        while candidate > snapshotIndex {
            if let found = self.term(at: candidate), found <= term { return candidate }
            candidate -= 1
        }
        return candidate
    }

    /// Appends `incoming`, whose first index must be at most one past the end, truncating any
    /// entries it replaces. Committed entries are never replaced (Log Matching, §5.3).
    mutating func append(_ incoming: [Entry]) {
        guard let first = incoming.first else { return }
        precondition(first.index >= firstIndex && first.index <= lastIndex + 1, "append leaves a gap")
        precondition(first.index > committed, "append would replace committed entry \(first.index)")
        entries.removeLast(Int(lastIndex - (first.index - 1)))
        entries.append(contentsOf: incoming)
        stable = min(stable, first.index - 1)
    }

    /// A follower's handling of an append: the new last index when `prev` matches, else nil.
    mutating func maybeAppend(prevIndex: UInt64, prevTerm: UInt64, commit leaderCommit: UInt64, incoming: [Entry]) -> UInt64? {
        guard matches(index: prevIndex, term: prevTerm) else { return nil }
        if let conflict = firstConflict(in: incoming) {
            append(Array(incoming[conflict...]))
        }
        let lastNew = prevIndex + UInt64(incoming.count)
        commit(to: min(leaderCommit, lastNew))
        return lastNew
    }

    mutating func commit(to index: UInt64) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
        committed = index
    }

    /// Marks entries up to `index` stored, unless they were replaced since the Ready was built.
    mutating func stored(through index: UInt64, term: UInt64) {
        guard index > stable, matches(index: index, term: term) else { return }
        stable = index
    }

    /// Replaces the whole log with a snapshot from the leader.
    mutating func restore(_ incoming: Snapshot) {
        snapshot = incoming
        entries = []
        committed = incoming.index
        stable = incoming.index
        unstableSnapshot = incoming
    }

    mutating func snapshotStored(_ stored: Snapshot) {
        if unstableSnapshot == stored { unstableSnapshot = nil }
        applied = max(applied, stored.index)
    }

    /// Drops entries up to `index`, which the shell's own snapshot now covers.
    mutating func compact(_ taken: Snapshot) {
        precondition(taken.index <= applied, "snapshot at \(taken.index) beyond applied \(applied)")
        guard taken.index > snapshot.index else { return }
        entries.removeFirst(Int(taken.index - snapshot.index))
        snapshot = taken
    }
}
