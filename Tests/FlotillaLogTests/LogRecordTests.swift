import Testing

@testable import FlotillaLog

@Suite struct LogRecordTests {
    @Test func layoutIsLengthChecksumIndexTermPayload() {
        var bytes: [UInt8] = []
        LogRecord.encode(index: 0x0102, term: 7, payload: [0xAA, 0xBB], into: &bytes)
        #expect(bytes.count == 26)
        #expect(Array(bytes[0..<4]) == [0, 0, 0, 18])
        #expect(Array(bytes[8..<16]) == [0, 0, 0, 0, 0, 0, 1, 2])
        #expect(Array(bytes[16..<24]) == [0, 0, 0, 0, 0, 0, 0, 7])
        #expect(Array(bytes[24...]) == [0xAA, 0xBB])
        let crc = CRC32C.checksum(Array(bytes[8...]))
        #expect(
            Array(bytes[4..<8]) == [
                UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF),
            ])
    }

    /// The vector in proto-spec/LOG-FORMAT.md.
    @Test func specVector() {
        var bytes: [UInt8] = []
        LogRecord.encode(index: 1, term: 1, payload: Array("submit".utf8), into: &bytes)
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        #expect(
            hex.joined(separator: " ")
                == "00 00 00 16 67 11 d8 02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 01 73 75 62 6d 69 74")
    }

    @Test func decodesWhatItEncodes() {
        var bytes: [UInt8] = []
        LogRecord.encode(index: 1, term: 2, payload: [], into: &bytes)
        LogRecord.encode(index: 2, term: 3, payload: Array("submit".utf8), into: &bytes)
        bytes.withUnsafeBytes { buffer in
            #expect(LogRecord.decode(buffer, at: 0) == .record(index: 1, term: 2, payload: 24..<24, end: 24))
            #expect(LogRecord.decode(buffer, at: 24) == .record(index: 2, term: 3, payload: 48..<54, end: 54))
        }
    }

    @Test func shortBytesAreIncompleteAndDamagedBytesInvalid() {
        var bytes: [UInt8] = []
        LogRecord.encode(index: 1, term: 1, payload: [1, 2, 3], into: &bytes)
        for cut in [0, 5, 8, bytes.count - 1] {
            Array(bytes[..<cut]).withUnsafeBytes { #expect(LogRecord.decode($0, at: 0) == .incomplete) }
        }
        var flipped = bytes
        flipped[20] ^= 0x10
        flipped.withUnsafeBytes {
            guard case .invalid(let reason) = LogRecord.decode($0, at: 0) else {
                Issue.record("decoded a flipped bit")
                return
            }
            #expect(reason.contains("checksum mismatch"))
        }
        [UInt8](repeating: 0, count: 32).withUnsafeBytes {
            guard case .invalid = LogRecord.decode($0, at: 0) else {
                Issue.record("decoded zeros")
                return
            }
        }
    }
}
