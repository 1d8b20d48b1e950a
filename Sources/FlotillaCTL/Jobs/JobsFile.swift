import FlotillaProto
import FlotillaWire
import Foundation
import SwiftProtobuf

/// A file of job specs, one JSON `JobSpec` per line (the proto3 JSON mapping, e.g.
/// `{"model": "sdxl", "gpuCount": 2, "params": {"prompt": "a fox"}}`; gpuCount
/// defaults to 1), cut into
/// `SubmitJobsRequest`s within the protocol's limits (PROTOCOL.md §7.3). Blank
/// lines and lines starting with `#` are skipped.
struct JobsFile: Sendable {
    /// The coordinator's limits (PROTOCOL.md §7.3): 1,000 specs and 2 MiB per request.
    static let maxSpecsPerRequest = MessageKind.submitJobsRequest.repeatedLimit?.max ?? 1_000
    static let maxBytesPerRequest = MessageKind.submitJobsRequest.maxRequestPayload

    struct Line: Sendable {
        var number: Int
        var spec: Flotilla_V1_JobSpec
    }

    var lines: [Line]

    /// A line without an idempotency key gets one made from the file's contents and
    /// the line's number, so that submitting the same file again (say, after an
    /// answer that never came) finds the jobs it made instead of making them twice.
    init(contents: Data, name: String) throws {
        let digest = Self.fnv1a(contents)
        guard let text = String(data: contents, encoding: .utf8) else {
            throw CommandFailure("\(name) is not UTF-8 text")
        }
        var lines: [Line] = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            var spec: Flotilla_V1_JobSpec
            do {
                spec = try Flotilla_V1_JobSpec(jsonString: line)
            } catch {
                throw CommandFailure("\(name):\(offset + 1): not a JobSpec in JSON (\(error))")
            }
            guard !spec.model.isEmpty else { throw CommandFailure("\(name):\(offset + 1): \"model\" is required") }
            // As `--gpus` does when not given.
            if spec.gpuCount == 0 { spec.gpuCount = 1 }
            if spec.idempotencyKey.isEmpty {
                spec.idempotencyKey = "flotillactl-file-\(String(digest, radix: 16))-\(offset + 1)"
            }
            lines.append(Line(number: offset + 1, spec: spec))
        }
        guard !lines.isEmpty else { throw CommandFailure("\(name) holds no job specs") }
        self.lines = lines
    }

    /// The lines in request-sized groups, in file order.
    var batches: [ArraySlice<Line>] {
        var batches: [ArraySlice<Line>] = []
        var start = 0
        var bytes = 0
        for (index, line) in lines.enumerated() {
            // A spec's size in the request: its bytes plus a tag and a length of at most 4 bytes.
            let size = ((try? line.spec.serializedBytes() as [UInt8])?.count ?? 0) + 5
            if index > start, index - start == Self.maxSpecsPerRequest || bytes + size > Self.maxBytesPerRequest {
                batches.append(lines[start..<index])
                start = index
                bytes = 0
            }
            bytes += size
        }
        batches.append(lines[start...])
        return batches
    }

    /// FNV-1a, 64 bits: a stable name for the file's contents, not a security measure
    /// (a collision is caught: the same key with a different spec is ALREADY_EXISTS).
    static func fnv1a(_ data: Data) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
