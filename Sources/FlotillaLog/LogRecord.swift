/// The on-disk record that carries one log entry (and, alone in its file, one snapshot).
/// All integers are big-endian:
///
///     offset  size  field
///     0       4     length: the bytes after the checksum field, 16 + payload size
///     4       4     CRC32C over those `length` bytes (index, term, payload)
///     8       8     index
///     16      8     term
///     24      n     payload
///
/// A record is whole only if all `8 + length` bytes are there and the checksum matches;
/// `proto-spec/LOG-FORMAT.md` describes how segments and snapshots use it.
enum LogRecord {
    /// Length and checksum fields.
    static let headerSize = 8
    /// Header, index and term: the bytes a record adds to its payload.
    static let overhead = 24
    /// The largest payload the 32-bit length field can describe.
    static let maxPayloadSize = Int(UInt32.max) - 16

    static func size(payloadCount: Int) -> Int {
        overhead + payloadCount
    }

    /// Appends the encoded record to `buffer`.
    static func encode(index: UInt64, term: UInt64, payload: [UInt8], into buffer: inout [UInt8]) {
        precondition(payload.count <= maxPayloadSize, "payload size is checked before encoding")
        let start = buffer.count
        buffer.reserveCapacity(start + size(payloadCount: payload.count))
        appendBigEndian(UInt32(16 + payload.count), to: &buffer)
        appendBigEndian(UInt32(0), to: &buffer)
        appendBigEndian(index, to: &buffer)
        appendBigEndian(term, to: &buffer)
        buffer.append(contentsOf: payload)
        let crc = buffer.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + headerSize)...]))
        }
        withUnsafeBytes(of: crc.bigEndian) { crcBytes in
            buffer.replaceSubrange((start + 4)..<(start + 8), with: crcBytes)
        }
    }

    enum Decoded: Equatable {
        /// A whole record; the payload is `bytes[payload]`, the next record starts at `end`.
        case record(index: UInt64, term: UInt64, payload: Range<Int>, end: Int)
        /// The bytes stop before the record does: a write cut short.
        case incomplete
        /// The bytes are there but are not a record.
        case invalid(reason: String)
    }

    /// Decodes the record starting at `offset`.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Decoded {
        guard bytes.count - offset >= headerSize else { return .incomplete }
        let length = Int(readUInt32(bytes, at: offset))
        guard length >= 16 else {
            return .invalid(reason: "record length \(length) is shorter than index and term")
        }
        let end = offset + headerSize + length
        guard end <= bytes.count else { return .incomplete }
        let stored = readUInt32(bytes, at: offset + 4)
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<end])
        let computed = CRC32C.checksum(body)
        guard stored == computed else {
            let found = String(computed, radix: 16)
            let expected = String(stored, radix: 16)
            return .invalid(reason: "checksum mismatch (computed \(found), stored \(expected))")
        }
        return .record(
            index: readUInt64(bytes, at: offset + 8),
            term: readUInt64(bytes, at: offset + 16),
            payload: (offset + overhead)..<end,
            end: end
        )
    }

    static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    static func readUInt64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }
}
