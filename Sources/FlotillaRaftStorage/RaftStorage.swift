import FlotillaLog
import FlotillaRaft
import Synchronization

/// A Raft member's stable storage: the durable log's CRC-checked segments and snapshots hold
/// the entries, the `CONSENSUS` file holds the term and vote. `save(_:)` does step 1 of the
/// Ready contract: when it returns, everything the Ready's messages depend on is synced.
///
/// One task at a time writes (the shell's Ready loop). The methods run on the caller's
/// executor, not an actor of their own: a Ready costs the log's one hand-off to its writer
/// thread and back, not two more hops on a machine whose cores the whole region shares.
public final class RaftStorage: Sendable {
    public let log: DurableLog
    public let directory: String
    /// The term and vote last written, so that a Ready that only moves the commit index costs
    /// no extra sync (the commit index is advisory: a restarted member learns it again).
    private let written: Mutex<ConsensusState>

    private init(log: DurableLog, directory: String, written: ConsensusState) {
        self.log = log
        self.directory = directory
        self.written = Mutex(written)
    }

    /// Opens (or creates) the storage in `directory`.
    ///
    /// - Throws: the durable log's errors, and `LogError.corruptConsensusState` for a damaged
    ///   term and vote.
    public static func open(directory: String, configuration: DurableLog.Configuration = .init()) throws -> RaftStorage {
        let log = try DurableLog.open(directory: directory, configuration: configuration)
        let state = try ConsensusStateFile.read(directory: directory) ?? ConsensusState()
        return RaftStorage(log: log, directory: directory, written: state)
    }

    /// What the Raft node restarts from.
    public func load() throws -> StoredState { try Self.stored(in: log, written: written.withLock { $0 }) }

    /// Opens the storage and reads what the node restarts from, in one step (for a shell
    /// that builds its node before it runs anything asynchronous).
    public static func openLoaded(directory: String, configuration: DurableLog.Configuration = .init()) throws
        -> (storage: RaftStorage, stored: StoredState) {
        let log = try DurableLog.open(directory: directory, configuration: configuration)
        let state = try ConsensusStateFile.read(directory: directory) ?? ConsensusState()
        let stored = try stored(in: log, written: state)
        return (RaftStorage(log: log, directory: directory, written: state), stored)
    }

    private static func stored(in log: DurableLog, written state: ConsensusState) throws -> StoredState {
        var snapshot: Snapshot?
        if let stored = try log.loadSnapshot() {
            let decoded = try RaftRecordCodec.decodeSnapshotData(stored.data)
            snapshot = Snapshot(index: stored.index, term: stored.term, membership: decoded.membership, data: decoded.state)
        }
        var entries: [Entry] = []
        try log.forEachEntry(from: log.firstIndex) { record in
            entries.append(Entry(index: record.index, term: record.term, payload: try RaftRecordCodec.decodePayload(record.payload)))
        }
        return StoredState(hardState: HardState(term: state.term, vote: state.vote, commit: state.commit),
                           snapshot: snapshot, entries: entries)
    }

    /// The voters this member's group was founded with: those stored at its first start
    /// (`FOUNDERS`), or, at the first start, `configured`, stored now. Later edits of
    /// `raft.peers` then change only addresses; membership changes go through the log.
    ///
    /// - Throws: `LogError.corruptFoundingMembers` for a damaged file; the log's I/O errors.
    public func foundingMembership(configured: Membership) throws -> Membership {
        if let stored = try FoundingMembersFile.read(directory: directory) {
            do {
                return try RaftRecordCodec.decodeSnapshotData(stored).membership
            } catch {
                throw LogError.corruptFoundingMembers(path: FoundingMembersFile.path(in: directory), reason: "\(error)")
            }
        }
        try FoundingMembersFile.write(RaftRecordCodec.encodeSnapshotData(membership: configured, state: []), directory: directory)
        return configured
    }

    /// Stores a Ready's snapshot, entries and hard state, synced, in that order.
    nonisolated(nonsending) public func save(_ ready: Ready) async throws {
        if let snapshot = ready.snapshot {
            // A leader's snapshot replaces this log. Entries before its index that this member
            // acknowledged stay until the snapshot is in place, so a crash part way loses none.
            if let term = log.term(at: snapshot.index), term != snapshot.term {
                try await log.truncateSuffix(after: snapshot.index - 1)
            }
            try await log.saveSnapshot(index: snapshot.index, term: snapshot.term,
                                       data: RaftRecordCodec.encodeSnapshotData(membership: snapshot.membership, state: snapshot.data))
        }
        if let first = ready.entries.first {
            if first.index <= log.lastIndex { try await log.truncateSuffix(after: first.index - 1) }
            _ = try await log.append(ready.entries.map {
                LogEntry(index: $0.index, term: $0.term, payload: RaftRecordCodec.encode($0.payload))
            })
        }
        if let hardState = ready.hardState {
            let next = ConsensusState(term: hardState.term, vote: hardState.vote, commit: hardState.commit)
            let last = written.withLock { $0 }
            if next.term != last.term || next.vote != last.vote {
                try ConsensusStateFile.write(next, directory: directory)
                written.withLock { $0 = next }
            }
        }
    }

    /// Saves the state machine's snapshot at `snapshot.index` (taken by the shell, then handed
    /// to `RaftNode.compact`), dropping the entries it covers.
    nonisolated(nonsending) public func compact(_ snapshot: Snapshot) async throws {
        try await log.saveSnapshot(index: snapshot.index, term: snapshot.term,
                                   data: RaftRecordCodec.encodeSnapshotData(membership: snapshot.membership, state: snapshot.data))
    }

    nonisolated(nonsending) public func close() async { await log.close() }
}

