import Testing

@testable import FlotillaLog

@Suite struct DurableMarkTests {
    /// The vector in proto-spec/LOG-FORMAT.md.
    @Test func specVector() {
        let bytes = DurableMark(index: 1, term: 1).encoded()
        #expect(bytes.count == DurableMark.size)
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        #expect(
            hex.joined(separator: " ")
                == "46 44 55 52 00 00 00 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 01 a8 80 63 01")
    }

    @Test func decodesWhatItEncodesAndRejectsEveryFlippedBit() throws {
        let mark = DurableMark(index: 0x0102_0304_0506, term: 9)
        let bytes = mark.encoded()
        #expect(try DurableMark.decode(bytes).get() == mark)
        for bit in 0..<(bytes.count * 8) {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << (bit % 8)
            guard case .failure = DurableMark.decode(flipped) else {
                Issue.record("bit \(bit) flipped decodes")
                continue
            }
        }
        guard case .failure(let failure) = DurableMark.decode(Array(bytes.dropLast())) else {
            Issue.record("a short mark decodes")
            return
        }
        #expect(failure.reason.contains("27 bytes"))
    }
}
