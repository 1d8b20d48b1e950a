import FlotillaRaft

/// A Raft node with what a shell gives it: storage that survives a crash (only what a Ready
/// handed over and was "synced"), and a state machine that records the commands it applied.
/// Used by the scenario scripts and the simulations alike.
public struct NodeHost: Sendable {
    public let options: RaftOptions
    public let bootstrap: Membership
    public var node: RaftNode
    /// What is on "disk".
    public var storage = StoredState()
    /// The state machine: commands in the order applied, restored from snapshots.
    public var appliedCommands: [String] = []
    public var appliedIndex: UInt64 = 0
    public var readStates: [ReadState] = []

    public init(options: RaftOptions, bootstrap: Membership) {
        self.options = options
        self.bootstrap = bootstrap
        node = RaftNode(options: options, bootstrap: bootstrap)
    }

    /// Stores, applies and advances one Ready, returning it so the caller can send its messages
    /// (after this returns, as the contract says: the storage part is already done).
    public mutating func handleReady() -> Ready? {
        guard node.hasReady else { return nil }
        let ready = node.ready()
        if let snapshot = ready.snapshot {
            storage.snapshot = snapshot
            storage.entries = []
        }
        if let first = ready.entries.first {
            storage.entries.removeAll { $0.index >= first.index }
            storage.entries.append(contentsOf: ready.entries)
        }
        if let hardState = ready.hardState { storage.hardState = hardState }
        if let snapshot = ready.snapshot {
            appliedCommands = Self.decode(snapshot.data)
            appliedIndex = snapshot.index
        }
        for entry in ready.committedEntries {
            precondition(entry.index == appliedIndex + 1, "\(options.id) applied \(entry.index) after \(appliedIndex)")
            appliedIndex = entry.index
            if case .command(let bytes) = entry.payload {
                appliedCommands.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        readStates.append(contentsOf: ready.readStates)
        node.advance(ready)
        return ready
    }

    /// Takes a snapshot of the state machine at the applied index.
    public mutating func compact(through index: UInt64) {
        let upTo = min(index, appliedIndex)
        let commandsThere = commands(appliedThrough: upTo)
        node.compact(through: upTo, data: Self.encode(commandsThere))
        storage.snapshot = node.latestSnapshot
        storage.entries.removeAll { $0.index <= node.latestSnapshot.index }
    }

    /// The commands applied by `index`: this simple state machine keeps one per command entry,
    /// so it counts command entries in the log between the last snapshot and `index`.
    public func commands(appliedThrough index: UInt64) -> [String] {
        guard index < appliedIndex else { return appliedCommands }
        var dropped = 0
        var position = index + 1
        while position <= appliedIndex {
            if case .command? = node.entry(at: position)?.payload { dropped += 1 }
            position += 1
        }
        return Array(appliedCommands.dropLast(dropped))
    }

    /// A crash: everything not handed to storage is lost; the node restarts from storage.
    public mutating func restart() {
        node = RaftNode(options: options, stored: storage, bootstrap: bootstrap)
        if let snapshot = storage.snapshot {
            appliedCommands = Self.decode(snapshot.data)
            appliedIndex = snapshot.index
        } else {
            appliedCommands = []
            appliedIndex = 0
        }
        readStates = []
    }

    public static func encode(_ commands: [String]) -> [UInt8] { Array(commands.joined(separator: "\n").utf8) }

    public static func decode(_ data: [UInt8]) -> [String] {
        data.isEmpty ? [] : String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
