/// What a consensus member must remember across a crash besides its log: its term, whom it
/// voted for in that term, and (advisory) the commit index it knew. The `CONSENSUS` file holds
/// it, all integers big-endian:
///
///     offset  size  field
///     0       4     magic "FCON"
///     4       4     version, 1
///     8       8     term
///     16      8     commit
///     24      2     vote length n (0: no vote)
///     26      n     vote, UTF-8
///     26+n    4     CRC-32C over bytes 0..<26+n
///
/// Each write is a new temporary file, synced, renamed over the old one, and the directory
/// synced: a crash leaves the old state or the new one, never a mix, so a vote once written is
/// never forgotten and never changes within a term.
public struct ConsensusState: Hashable, Sendable {
    public var term: UInt64
    public var vote: String?
    public var commit: UInt64

    public init(term: UInt64 = 0, vote: String? = nil, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    static let magic: [UInt8] = Array("FCON".utf8)
    static let version: UInt32 = 1
    static let maxVoteBytes = 255

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        Self.append(Self.version, to: &bytes)
        Self.append(term, to: &bytes)
        Self.append(commit, to: &bytes)
        let vote = Array((self.vote ?? "").utf8)
        Self.append(UInt16(vote.count), to: &bytes)
        bytes += vote
        Self.append(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> Result<ConsensusState, DurableMark.DecodeFailure> {
        guard bytes.count >= 30 else { return .failure(DurableMark.DecodeFailure(reason: "\(bytes.count) bytes, fewer than 30")) }
        guard bytes[0..<4].elementsEqual(magic) else { return .failure(DurableMark.DecodeFailure(reason: "does not start with \"FCON\"")) }
        let version = UInt32(read(bytes, at: 4, count: 4))
        guard version == Self.version else { return .failure(DurableMark.DecodeFailure(reason: "version \(version), expected 1")) }
        let voteLength = Int(read(bytes, at: 24, count: 2))
        guard bytes.count == 30 + voteLength else {
            return .failure(DurableMark.DecodeFailure(reason: "\(bytes.count) bytes where a vote of \(voteLength) makes \(30 + voteLength)"))
        }
        let stored = UInt32(read(bytes, at: 26 + voteLength, count: 4))
        guard stored == CRC32C.checksum(Array(bytes[0..<(26 + voteLength)])) else {
            return .failure(DurableMark.DecodeFailure(reason: "checksum mismatch"))
        }
        let vote = voteLength == 0 ? nil : String(decoding: bytes[26..<(26 + voteLength)], as: UTF8.self)
        return .success(ConsensusState(term: read(bytes, at: 8, count: 8), vote: vote, commit: read(bytes, at: 16, count: 8)))
    }

    private static func read(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        bytes[offset..<(offset + count)].reduce(0) { $0 << 8 | UInt64($1) }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

public enum ConsensusStateFile {
    static let fileName = "CONSENSUS"

    public static func path(in directory: String) -> String { directory + "/" + fileName }

    /// The stored state; a new member has none.
    ///
    /// - Throws: `LogError.corruptConsensusState` when the file is damaged: the vote it held is
    ///   unknown, and voting again could elect two leaders in one term, so the member must not start.
    public static func read(directory: String) throws -> ConsensusState? {
        let path = path(in: directory)
        guard let bytes = try DiskFile.readIfPresent(path) else { return nil }
        switch ConsensusState.decode(bytes) {
        case .success(let state): return state
        case .failure(let failure): throw LogError.corruptConsensusState(path: path, reason: failure.reason)
        }
    }

    /// Replaces the stored state durably (temporary file, sync, rename, directory sync).
    public static func write(_ state: ConsensusState, directory: String) throws {
        precondition((state.vote?.utf8.count ?? 0) <= ConsensusState.maxVoteBytes, "member names are at most 255 bytes")
        try DiskFile.replaceDurably(path(in: directory), with: state.encoded(), directory: directory)
    }
}
