/// The voters a Raft group was founded with, as this member first started with them: the
/// `FOUNDERS` file. Until a membership entry or a snapshot carrying one is in the log, a
/// member's configuration is its founding voters; were they read from `raft.peers` on every
/// start, editing that list before the first membership change would silently change whom
/// this member counts a majority of, while the others still count the old voters. So the
/// list is written once, at the first start, and read back on every later one. All integers
/// big-endian:
///
///     offset  size  field
///     0       4     magic "FFND"
///     4       4     version, 1
///     8       4     length n of the members
///     12      n     the members, in the Raft log's membership encoding
///     12+n    4     CRC-32C over bytes 0..<12+n
///
/// Written like `CONSENSUS`: a temporary file, synced, renamed, and the directory synced.
public enum FoundingMembersFile {
    static let fileName = "FOUNDERS"
    static let magic: [UInt8] = Array("FFND".utf8)
    static let version: UInt32 = 1

    public static func path(in directory: String) -> String { directory + "/" + fileName }

    /// The stored members' bytes; nil when the file was never written.
    ///
    /// - Throws: `LogError.corruptFoundingMembers` when the file is damaged.
    public static func read(directory: String) throws -> [UInt8]? {
        let path = path(in: directory)
        guard let bytes = try DiskFile.readIfPresent(path) else { return nil }
        func refuse(_ reason: String) -> LogError { .corruptFoundingMembers(path: path, reason: reason) }
        guard bytes.count >= 16 else { throw refuse("\(bytes.count) bytes, fewer than 16") }
        guard bytes[0..<4].elementsEqual(magic) else { throw refuse("does not start with \"FFND\"") }
        let version = read(bytes, at: 4)
        guard version == Self.version else { throw refuse("version \(version), expected 1") }
        let length = Int(read(bytes, at: 8))
        guard bytes.count == 16 + length else { throw refuse("\(bytes.count) bytes where \(length) of members make \(16 + length)") }
        guard read(bytes, at: 12 + length) == CRC32C.checksum(Array(bytes[0..<(12 + length)])) else {
            throw refuse("checksum mismatch")
        }
        return Array(bytes[12..<(12 + length)])
    }

    /// Stores `members` durably; replaces nothing that a reader could see half written.
    public static func write(_ members: [UInt8], directory: String) throws {
        var bytes = magic
        append(version, to: &bytes)
        append(UInt32(members.count), to: &bytes)
        bytes += members
        append(CRC32C.checksum(bytes), to: &bytes)
        try DiskFile.replaceDurably(path(in: directory), with: bytes, directory: directory)
    }

    private static func read(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
