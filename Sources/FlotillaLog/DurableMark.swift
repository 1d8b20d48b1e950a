/// The last entry the log made durable, `(index, term)`; `(0, 0)` for an empty log. The
/// `DURABLE` file holds one, so that opening can tell a log that ends where it ends from one
/// that damage or a lost file cut short. All integers big-endian, 28 bytes:
///
///     offset  size  field
///     0       4     magic "FDUR"
///     4       4     version, 1
///     8       8     index
///     16      8     term
///     24      4     CRC-32C over bytes 0..<24
struct DurableMark: Hashable, Sendable {
    var index: UInt64
    var term: UInt64

    static let size = 28
    static let magic: [UInt8] = Array("FDUR".utf8)
    static let version: UInt32 = 1

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.size)
        Self.append(Self.version, to: &bytes)
        Self.append(index, to: &bytes)
        Self.append(term, to: &bytes)
        Self.append(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// Decodes a whole mark; the reason why not otherwise (a torn write fails the checksum).
    static func decode(_ bytes: [UInt8]) -> Result<DurableMark, DecodeFailure> {
        guard bytes.count == size else {
            return .failure(DecodeFailure(reason: "\(bytes.count) bytes where a mark has \(size)"))
        }
        return bytes.withUnsafeBytes { raw in
            guard bytes[0..<4].elementsEqual(magic) else {
                return .failure(DecodeFailure(reason: "does not start with \"FDUR\""))
            }
            let stored = LogRecord.readUInt32(raw, at: 24)
            let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<24]))
            guard stored == computed else {
                let found = String(computed, radix: 16)
                let expected = String(stored, radix: 16)
                return .failure(DecodeFailure(reason: "checksum mismatch (computed \(found), stored \(expected))"))
            }
            let version = LogRecord.readUInt32(raw, at: 4)
            guard version == Self.version else {
                return .failure(DecodeFailure(reason: "version \(version), this build reads version \(Self.version)"))
            }
            return .success(
                DurableMark(index: LogRecord.readUInt64(raw, at: 8), term: LogRecord.readUInt64(raw, at: 16)))
        }
    }

    struct DecodeFailure: Error {
        var reason: String
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
