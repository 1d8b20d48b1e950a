import FlotillaProto
import FlotillaWire
import NIOCore
import SwiftProtobuf

/// The test vectors in proto-spec/vectors/frames.hex, as code: the generator renders
/// these, and the committed file must stay exactly what they render to.
enum VectorCatalog {
    struct Valid {
        var name: String
        var description: String
        var envelope: Envelope
    }

    struct Invalid {
        var name: String
        var description: String
        var bytes: ByteBuffer
        var error: WireError
    }

    static let valid: [Valid] = [
        Valid(
            name: "hello", description: "A worker opens a connection: versions 1..1, role WORKER.",
            envelope: envelope(
                Flotilla_V1_Hello.with {
                    $0.minVersion = 1
                    $0.maxVersion = 1
                    $0.role = .worker
                    $0.name = "worker-7"
                    $0.cluster = "prod"
                    $0.region = "us-east"
                    $0.software = "flotilla/0.1.0"
                }, 1, [])),
        Valid(
            name: "hello-ack",
            description: "The coordinator accepts: version 1 and its limits, answering correlation id 1.",
            envelope: envelope(
                Flotilla_V1_HelloAck.with {
                    $0.version = 1
                    $0.role = .coordinator
                    $0.name = "coord-1"
                    $0.cluster = "prod"
                    $0.region = "us-east"
                    $0.software = "flotilla/0.1.0"
                    $0.maxInFlight = 64
                    $0.maxFrameBytes = 16 << 20
                    $0.idleTimeoutMs = 60_000
                }, 1, .response)),
        Valid(
            name: "error-not-leader", description: "A follower refuses a request with NOT_LEADER and names the leader.",
            envelope: envelope(
                Flotilla_V1_Error.with {
                    $0.code = .notLeader
                    $0.message = "coord-2 is a follower"
                    $0.leaderHint = "10.0.0.2:7400"
                }, 7, .response)),
        Valid(
            name: "submit-job-request",
            description: "A client submits a premium two-GPU job with params (map keys sorted).",
            envelope: envelope(
                Flotilla_V1_SubmitJobRequest.with {
                    $0.spec.model = "mochi-1"
                    $0.spec.gpuCount = 2
                    $0.spec.tier = .premium
                    $0.spec.tenant = "acme"
                    $0.spec.params = ["prompt": "a red fox running through snow", "seed": "7919"]
                    $0.spec.steps = 50
                    $0.spec.idempotencyKey = "acme-2024-0001"
                    $0.spec.fallbackAllowed = true
                }, 42, [])),
        Valid(
            name: "job-event-stream-item", description: "One item of a WatchJob stream: RESPONSE|STREAM, more follow.",
            envelope: envelope(
                Flotilla_V1_JobEvent.with {
                    $0.jobID = "job-000123"
                    $0.state = .running
                    $0.attempt = 1
                    $0.workerID = "w-1"
                    $0.step = 30
                    $0.totalSteps = 50
                    $0.message = "step 30/50"
                    $0.atUnixMs = 1_700_000_030_000
                }, 43, [.response, .stream])),
        Valid(
            name: "stream-end", description: "The stream of correlation id 43 ended normally: an empty payload.",
            envelope: envelope(Flotilla_V1_StreamEnd(), 43, .response)),
        Valid(
            name: "worker-directive-assign",
            description: "A directive stream item assigning a job (a oneof) to a worker.",
            envelope: envelope(
                Flotilla_V1_WorkerDirective.with {
                    $0.assign.jobID = "job-000123"
                    $0.assign.token.term = 3
                    $0.assign.token.attempt = 2
                    $0.assign.model = "mochi-1"
                    $0.assign.gpuCount = 1
                    $0.assign.gpuIndices = [0]
                    $0.assign.steps = 50
                    $0.graceMs = 30_000
                }, 5, [.response, .stream])),
        Valid(
            name: "drain-notice-one-way", description: "A one-way message: correlation id 0, no answer expected.",
            envelope: envelope(
                Flotilla_V1_DrainNotice.with {
                    $0.workerID = "w-1"
                    $0.reason = "SIGTERM"
                }, 0, [])),
        Valid(
            name: "list-jobs-response-compressed",
            description:
                "A job list over the 4096-byte threshold, sent LZ4-compressed: u32 original size, then one LZ4 block.",
            envelope: envelope(
                Flotilla_V1_ListJobsResponse.with { list in
                    list.jobs = (0..<40).map { index in
                        Flotilla_V1_Job.with {
                            $0.id = "job-\(100_000 + index)"
                            $0.spec.model = index % 3 == 0 ? "mochi-1" : "open-sora"
                            $0.spec.tenant = "tenant-\(index % 5)"
                            $0.spec.gpuCount = UInt32(1 + index % 4)
                            $0.spec.params = ["prompt": "a red fox running through snow, cinematic, shot \(index)"]
                            $0.state = .running
                            $0.step = UInt64(index % 50)
                            $0.totalSteps = 50
                            $0.region = "us-east"
                        }
                    }
                    list.nextPageToken = "job-100040"
                }, 44, .response)),
    ]

    static let invalid: [Invalid] = [
        Invalid(
            name: "frame-too-large", description: "Declares 16 MiB + 1 payload bytes: refused from the header alone.",
            bytes: header(length: 16 << 20 + 1, kind: .ping, correlationID: 1),
            error: .frameTooLarge(declared: 16 << 20 + 1, limit: 16 << 20)),
        Invalid(
            name: "unsupported-version", description: "Version 2 in the header, otherwise a valid Ping.",
            bytes: header(length: 2, version: 2, kind: .ping, correlationID: 1, payload: [0x08, 0x01]),
            error: .unsupportedVersion(2)),
        Invalid(
            name: "unknown-kind", description: "Kind 999 is not assigned.",
            bytes: header(length: 0, kind: nil, correlationID: 1), error: .unknownKind(999)),
        Invalid(
            name: "invalid-flags", description: "Flag bit 0x08 is not defined in version 1.",
            bytes: header(length: 0, flags: 0x08, kind: .ack, correlationID: 1), error: .invalidFlags(0x08)),
        Invalid(
            name: "compressed-payload-too-short",
            description: "COMPRESSED with a 2-byte payload: no room for the original size.",
            bytes: header(length: 2, flags: 0x01, kind: .jobEvent, correlationID: 1, payload: [0, 0]),
            error: .compressedPayloadTooShort),
        Invalid(
            name: "decompressed-size-too-large",
            description: "A compressed payload claiming 16 MiB + 1 original bytes: refused before decompressing.",
            bytes: compressed(originalSize: 16 << 20 + 1, block: [0x10, 0x61]),
            error: .decompressedSizeTooLarge(declared: 16 << 20 + 1, limit: 16 << 20)),
        Invalid(
            name: "corrupt-lz4",
            description: "A compressed payload whose block is not valid LZ4 (a literal run past the input's end).",
            bytes: compressed(originalSize: 64, block: Array(repeating: 0xFF, count: 8)),
            error: .corruptCompressedPayload),
        Invalid(
            name: "lz4-size-mismatch",
            description: "A valid LZ4 block of 4 bytes (\"abcd\") declared as 5: the size must be exact.",
            bytes: compressed(originalSize: 5, block: [0x40, 0x61, 0x62, 0x63, 0x64]), error: .corruptCompressedPayload),
        Invalid(
            name: "truncated-payload", description: "The stream ends 5 bytes into an 8-byte payload.",
            bytes: header(length: 8, kind: .ping, correlationID: 1, payload: [0x08, 0x01, 0x10, 0x02, 0x18]),
            error: .truncatedFrame(received: 21, expected: 24)),
        Invalid(
            name: "undecodable-message",
            description: "Well framed, but the Hello payload is not protobuf (an 11-byte varint).",
            bytes: header(
                length: 12, kind: .hello, correlationID: 1, payload: [0x08] + Array(repeating: 0xFF, count: 10) + [0x01]
            ),
            error: .undecodableMessage(kind: .hello, reason: "")),
    ]

    private static func envelope(_ message: any SwiftProtobuf.Message, _ correlationID: UInt64, _ flags: FrameFlags)
        -> Envelope
    {
        try! Envelope(message, correlationID: correlationID, flags: flags)
    }

    /// Header (kind nil: 999, unassigned) and payload bytes, written by hand so that they
    /// can be what no encoder would produce.
    private static func header(
        length: UInt32, version: UInt8 = 1, flags: UInt8 = 0, kind: MessageKind?, correlationID: UInt64,
        payload: [UInt8] = []
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrameHeader(
            FrameHeader(
                length: length, version: version, flags: FrameFlags(rawValue: flags), kind: kind?.rawValue ?? 999,
                correlationID: correlationID))
        buffer.writeBytes(payload)
        return buffer
    }

    private static func compressed(originalSize: UInt32, block: [UInt8]) -> ByteBuffer {
        let size: [UInt8] = [
            UInt8(originalSize >> 24), UInt8(originalSize >> 16 & 0xFF), UInt8(originalSize >> 8 & 0xFF),
            UInt8(originalSize & 0xFF),
        ]
        return header(
            length: UInt32(4 + block.count), flags: 0x03, kind: .jobEvent, correlationID: 1, payload: size + block)
    }
}
