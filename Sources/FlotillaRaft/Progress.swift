/// What a leader knows about one follower's log, and how it sends to it (etcd's tracker):
/// probing one message at a time until the logs agree, then replicating with up to
/// `maxInflight` append messages in flight, or waiting for a snapshot to be installed.
public struct Progress: Equatable, Sendable {
    public enum State: String, Equatable, Sendable { case probe, replicate, snapshot }

    public internal(set) var match: UInt64 = 0
    public internal(set) var next: UInt64
    public internal(set) var state: State = .probe
    /// Heard from since the last check-quorum round.
    public internal(set) var recentActive = false
    public internal(set) var isLearner: Bool
    /// Probe: one message is out and unanswered.
    public internal(set) var probeSent = false
    /// Replicate: the last index of each append message in flight, oldest first.
    public internal(set) var inflight: [UInt64] = []
    /// Snapshot: the index of the snapshot sent, and leader ticks since it was sent.
    var pendingSnapshot: UInt64 = 0
    var snapshotTicks = 0

    init(next: UInt64, isLearner: Bool) {
        self.next = next
        self.isLearner = isLearner
    }

    func isPaused(maxInflight: Int) -> Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflight.count >= maxInflight
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            next = max(match + 1, pendingSnapshot + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        inflight = []
        pendingSnapshot = 0
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        inflight = []
        probeSent = false
    }

    mutating func becomeSnapshot(at index: UInt64) {
        state = .snapshot
        pendingSnapshot = index
        snapshotTicks = 0
        inflight = []
    }

    /// An acknowledgement up to `index`; false when it tells the leader nothing new.
    mutating func acknowledged(through index: UInt64) -> Bool {
        var updated = false
        if index > match {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        inflight.removeAll { $0 <= index }
        return updated
    }

    /// A rejection of the append whose previous index was `rejected`; `hint` is where the logs
    /// may agree. False when the rejection is stale (an answer to an older message).
    mutating func rejected(_ rejected: UInt64, hint: UInt64) -> Bool {
        if state == .replicate {
            guard rejected > match else { return false }
            next = match + 1
            return true
        }
        guard next - 1 == rejected else { return false }
        next = max(min(rejected, hint + 1), match + 1)
        probeSent = false
        return true
    }

    /// After sending entries up to `last`.
    mutating func sent(through last: UInt64) {
        switch state {
        case .replicate:
            next = last + 1
            inflight.append(last)
        case .probe:
            probeSent = true
        case .snapshot:
            break
        }
    }
}
