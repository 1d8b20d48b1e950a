import FlotillaProto
import FlotillaWire
import SwiftProtobuf
import Testing

@Suite struct RepeatedFieldLimitTests {
    static func bytes(_ message: any SwiftProtobuf.Message) throws -> [UInt8] { try message.serializedBytes() }

    @Test func countsTheBoundedFieldOnTheEncodedBytes() throws {
        var request = Flotilla_V1_SubmitJobsRequest()
        request.specs = (0..<7).map { n in Flotilla_V1_JobSpec.with { $0.model = "m"; $0.idempotencyKey = "k\(n)"; $0.params = ["a": "b"] } }
        let encoded = try Self.bytes(request)
        #expect(encoded.withUnsafeBytes { ProtobufFieldCount.occurrences(of: 1, in: $0, stoppingAfter: 100) } == 7)
        #expect(encoded.withUnsafeBytes { ProtobufFieldCount.occurrences(of: 2, in: $0, stoppingAfter: 100) } == 0)
        // It stops counting one past the limit.
        #expect(encoded.withUnsafeBytes { ProtobufFieldCount.occurrences(of: 1, in: $0, stoppingAfter: 3) } == 4)
        #expect(encoded.withUnsafeBytes { MessageKind.submitJobsRequest.repeatedLimitProblem(in: $0) } == nil)
    }

    @Test func aThousandAndOneEmptySpecsAreTooMany() throws {
        var request = Flotilla_V1_SubmitJobsRequest()
        request.specs = Array(repeating: Flotilla_V1_JobSpec(), count: 1_001)
        let encoded = try Self.bytes(request)
        #expect(encoded.count == 2_002)
        let problem = encoded.withUnsafeBytes { MessageKind.submitJobsRequest.repeatedLimitProblem(in: $0) }
        #expect(problem?.contains("more than 1000") == true)
        request.specs.removeLast()
        #expect(try Self.bytes(request).withUnsafeBytes { MessageKind.submitJobsRequest.repeatedLimitProblem(in: $0) } == nil)
        // Kinds without a bound are never counted.
        #expect(encoded.withUnsafeBytes { MessageKind.submitJobRequest.repeatedLimitProblem(in: $0) } == nil)
    }

    @Test func malformedBytesAreLeftToTheDecoder() {
        let cases: [[UInt8]] = [
            [0x0a, 0x05, 0x01],        // a length past the end
            [0x0a, 0x80],              // a length varint cut off
            [0x0b],                    // a group (wire type 3)
            [0x09, 0x01, 0x02],        // a fixed64 cut off
            Array(repeating: 0xff, count: 11), // a varint of more than 64 bits
        ]
        for bytes in cases {
            #expect(bytes.withUnsafeBytes { ProtobufFieldCount.occurrences(of: 1, in: $0, stoppingAfter: 10) } == nil, "\(bytes)")
        }
        // Every wire type that may appear is stepped over.
        let mixed: [UInt8] = [0x08, 0x96, 0x01, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0x1d, 0, 0, 0, 0, 0x0a, 0x00, 0x0a, 0x01, 0x00]
        #expect(mixed.withUnsafeBytes { ProtobufFieldCount.occurrences(of: 1, in: $0, stoppingAfter: 10) } == 3)
    }
}
