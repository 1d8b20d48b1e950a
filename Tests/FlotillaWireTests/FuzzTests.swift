import FlotillaWire
import FlotillaWireFuzz
import Testing

/// Seeded malformed input: mutated valid streams, random headers, truncations, corrupt
/// LZ4 and garbage protobuf. Nothing may crash or hang, and every failure is a WireError.
@Suite struct FuzzTests {
    @Test(arguments: [UInt64(1), 2, 3, 0xF10_7111A])
    func malformedInputOnlyEverProducesWireErrors(seed: UInt64) {
        let report = WireFuzz.report(seed: seed, cases: 2_000)
        #expect(report.failures.isEmpty, "\(report.failures.prefix(5))")
        #expect(report.cases == 2_000)
        #expect(report.errors > 1_000)
        #expect(report.frames > 500)
    }

    @Test func theMutationsReachEveryDecodingError() {
        let report = WireFuzz.report(seed: 7, cases: 4_000)
        let reached = Set(report.errorsByName.keys)
        let expected: Set = [
            "frameTooLarge", "unsupportedVersion", "unknownKind", "invalidFlags", "compressedPayloadTooShort",
            "decompressedSizeTooLarge", "corruptCompressedPayload", "truncatedFrame", "undecodableMessage",
        ]
        #expect(expected.isSubset(of: reached), "missing: \(expected.subtracting(reached))")
    }

    @Test func aSeedReplaysTheSameCases() {
        #expect(WireFuzz.report(seed: 11, cases: 500) == WireFuzz.report(seed: 11, cases: 500))
        #expect(WireFuzz.run(seed: 11, cases: 500).errors == WireFuzz.report(seed: 11, cases: 500).errors)
    }
}
