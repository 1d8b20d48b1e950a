import FlotillaProto
import FlotillaRaft

/// Puts a snapshot's chunks from one connection back together. Chunks must arrive in order
/// (the connection keeps them in order); anything else, or a snapshot larger than `maxSize`,
/// discards what was gathered, and the leader sends the snapshot again after its timeout.
public struct SnapshotAssembler: Sendable {
    public let maxSize: Int
    private var first: Flotilla_V1_RaftSnapshotChunk?
    private var data: [UInt8] = []

    public init(maxSize: Int = 1 << 30) {
        self.maxSize = maxSize
    }

    /// The whole snapshot message once `chunk` completes it; nil while more are expected.
    public mutating func add(_ chunk: Flotilla_V1_RaftSnapshotChunk) throws(RaftWireCodec.Invalid) -> Message? {
        if chunk.offset == 0 {
            first = chunk
            data = []
        }
        guard let first else { throw discard("chunk at offset \(chunk.offset) without the first") }
        guard chunk.offset == UInt64(data.count) else {
            throw discard("chunk at offset \(chunk.offset), expected \(data.count)")
        }
        guard chunk.index == first.index, chunk.snapshotTerm == first.snapshotTerm, chunk.term == first.term,
              chunk.from == first.from, chunk.totalSize == first.totalSize
        else { throw discard("chunk of another snapshot") }
        guard first.totalSize <= UInt64(maxSize) else {
            throw discard("snapshot of \(first.totalSize) bytes exceeds the \(maxSize)-byte limit")
        }
        guard UInt64(data.count + chunk.data.count) <= first.totalSize else { throw discard("chunks exceed the stated size") }
        data.append(contentsOf: chunk.data)
        guard chunk.done else { return nil }
        guard UInt64(data.count) == first.totalSize else { throw discard("done at \(data.count) of \(first.totalSize) bytes") }
        guard first.term > 0, first.index > 0, !first.from.isEmpty, !first.to.isEmpty else { throw discard("snapshot without term, index or members") }
        let membership = try RaftWireCodec.decode(first.membership)
        var message = Message(kind: .snapshot, from: first.from, to: first.to, term: first.term)
        message.snapshot = Snapshot(index: first.index, term: first.snapshotTerm, membership: membership, data: data)
        self.first = nil
        data = []
        return message
    }

    private mutating func discard(_ reason: String) -> RaftWireCodec.Invalid {
        first = nil
        data = []
        return RaftWireCodec.Invalid(reason: reason)
    }
}
