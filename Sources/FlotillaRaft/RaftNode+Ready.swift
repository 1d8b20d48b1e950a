/// The hand-off to the shell: what to store, send and apply (see `Ready`).
extension RaftNode {
    public var hasReady: Bool {
        hardState != lastHardState || currentLeadership != lastLeadership || !outbox.isEmpty
            || !readStates.isEmpty || log.hasUnstableEntries || log.unstableSnapshot != nil
            || log.hasEntriesToApply
    }

    var currentLeadership: Leadership { Leadership(role: role, leader: leader, term: term) }

    /// Takes the next Ready. The shell must call `advance(_:)` with it before taking another.
    public mutating func ready() -> Ready {
        precondition(!readyInProgress, "advance(_:) the last Ready before taking another")
        readyInProgress = true
        var ready = Ready()
        if hardState != lastHardState { ready.hardState = hardState }
        if currentLeadership != lastLeadership { ready.leadership = currentLeadership }
        ready.snapshot = log.unstableSnapshot
        ready.entries = log.unstableEntries
        ready.committedEntries = log.entriesToApply
        ready.messages = outbox
        ready.readStates = readStates
        outbox = []
        readStates = []
        return ready
    }

    /// Records that the shell did what `ready` asked.
    public mutating func advance(_ ready: Ready) {
        precondition(readyInProgress, "advance(_:) without ready()")
        readyInProgress = false
        if let hardState = ready.hardState { lastHardState = hardState }
        if let leadership = ready.leadership { lastLeadership = leadership }
        if let snapshot = ready.snapshot { log.snapshotStored(snapshot) }
        if let last = ready.entries.last { log.stored(through: last.index, term: last.term) }
        if let applied = ready.committedEntries.last?.index { log.applied = max(log.applied, applied) }
    }

    /// The shell applied the Ready's committed entries through `index` before `advance(_:)`
    /// (while it stores the same Ready): a snapshot it takes of them may compact at once.
    public mutating func applied(through index: UInt64) {
        log.applied = max(log.applied, min(index, log.committed, log.stable))
    }

    /// Committed entries on stable storage that no Ready has handed out yet, marked applied:
    /// the shell applies them at once, even while it stores a Ready. On a loaded leader an
    /// acknowledgement that commits entries an earlier Ready stored arrives while it syncs the
    /// next one, and without this the commit waited out that unrelated sync. The shell must
    /// not call it while it installs a Ready's snapshot (the state is about to be replaced).
    public mutating func takeCommittedEntries() -> [Entry] {
        let entries = log.entriesToApply
        if let last = entries.last { log.applied = max(log.applied, last.index) }
        return entries
    }

    /// The shell took a snapshot of its state at `index` (at most the applied index): entries
    /// up to there are dropped, and followers that need them get the snapshot instead.
    public mutating func compact(through index: UInt64, data: [UInt8]) {
        guard index > log.snapshotIndex, let term = log.term(at: index) else { return }
        log.compact(Snapshot(index: index, term: term, membership: membership(at: index), data: data))
    }

    /// The latest snapshot, as it would be sent to a follower.
    public var latestSnapshot: Snapshot { log.snapshot }

    /// A peer could not be reached (the transport failed to send): stop pipelining to it.
    public mutating func reportUnreachable(_ member: NodeID) {
        guard role == .leader, var peer = progress[member] else { return }
        if peer.state == .replicate { peer.becomeProbe() }
        progress[member] = peer
    }
}
