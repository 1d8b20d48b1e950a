import FlotillaWire
import Foundation
import NIOCore
import SwiftProtobuf

/// Reads and writes proto-spec/vectors/frames.hex: blank-line separated blocks of
/// "key: value" lines, the frame bytes under "hex:" (whitespace ignored).
enum VectorFile {
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto-spec/vectors/frames.hex")

    /// One block of the file: its fields in order and the frame bytes.
    struct Entry {
        var fields: [String: String]
        var bytes: ByteBuffer
        var name: String { fields["vector"] ?? "?" }
    }

    static func read() throws -> (lz4Version: Int?, entries: [Entry]) {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lz4Version: Int?
        var entries: [Entry] = []
        for block in text.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            var hex = ""
            var inHex = false
            for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("#") {
                    if let range = line.range(of: "generated with liblz4 ") {
                        lz4Version = Int(line[range.upperBound...].prefix { $0.isNumber })
                    }
                } else if inHex {
                    hex += line
                } else if let colon = line.firstIndex(of: ":") {
                    let key = String(line[..<colon])
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    if key == "hex" { inHex = true } else { fields[key] = value }
                }
            }
            if !fields.isEmpty { entries.append(Entry(fields: fields, bytes: ByteBuffer(hex: hex))) }
        }
        return (lz4Version, entries)
    }

    static func render(valid: [VectorCatalog.Valid], invalid: [VectorCatalog.Invalid]) throws -> String {
        var text = """
            # Flotilla wire protocol version 1: frame test vectors (see proto-spec/PROTOCOL.md).
            #
            # Blocks are separated by blank lines. Each has "vector:" (a name) and "description:",
            # then either the decoded frame: "kind:" (message name and number), "flags:" (as
            # on the wire), "correlation-id:", "message:" (protobuf JSON mapping); or the "error:"
            # a decoder must report. Then "hex:" and the frame bytes to the end of the block,
            # whitespace not significant; the first hex line of a frame is its 16-byte header
            # split into fields: length version flags kind correlation-id.
            #
            # Limits are the defaults: payloads up to 16777216 bytes, compression from 4096 bytes.
            # "flags:" are the header's, so a compressed vector reads compressed|response; the frame
            # a decoder hands on has its payload decompressed and the COMPRESSED bit cleared.
            # Each invalid vector is the whole input: "truncatedFrame" means the input ends inside a frame.
            # Encoding a valid vector's message (map entries sorted by key) gives its bytes exactly.
            # LZ4 output may differ between liblz4 releases; this file was generated with liblz4 \(LZ4Block.libraryVersion).
            # Regenerate: FLOTILLA_REGENERATE_VECTORS=1 swift test --filter VectorTests


            """
        let encoder = FrameEncoder()
        var json = JSONEncodingOptions()
        json.useDeterministicOrdering = true
        for vector in valid {
            let frame = try vector.envelope.frame()
            var bytes = ByteBuffer()
            try encoder.encode(frame, into: &bytes)
            let wireFlags = FrameFlags(rawValue: bytes.getInteger(at: 5)!)
            text += """
                vector: \(vector.name)
                description: \(vector.description)
                kind: \(describe(vector.envelope.kind))
                flags: \(describe(wireFlags))
                correlation-id: \(frame.correlationID)
                message: \(try vector.envelope.message.jsonString(options: json))
                hex:
                \(hexLines(bytes))


                """
        }
        for vector in invalid {
            text += """
                vector: \(vector.name)
                description: \(vector.description)
                error: \(describe(vector.error))
                hex:
                \(hexLines(vector.bytes))


                """
        }
        return String(text.dropLast())
    }

    /// The message name with a lower-case first letter and the number, e.g. "streamEnd (8)".
    static func describe(_ kind: MessageKind) -> String {
        "\(kind) (\(kind.rawValue))"
    }

    static func describe(_ flags: FrameFlags) -> String {
        let names = [(FrameFlags.compressed, "compressed"), (.response, "response"), (.stream, "stream")]
            .filter { flags.contains($0.0) }.map(\.1)
        return names.isEmpty ? "none" : names.joined(separator: "|")
    }

    /// The error as the file states it; `undecodableMessage`'s reason is the protobuf
    /// library's wording and not part of the vector.
    static func describe(_ error: WireError) -> String {
        switch error {
        case .frameTooLarge(let declared, let limit): return "frameTooLarge(declared: \(declared), limit: \(limit))"
        case .unsupportedVersion(let version): return "unsupportedVersion(\(version))"
        case .unknownKind(let kind): return "unknownKind(\(kind))"
        case .invalidFlags(let flags): return "invalidFlags(\(flags))"
        case .compressedPayloadTooShort: return "compressedPayloadTooShort"
        case .decompressedSizeTooLarge(let declared, let limit):
            return "decompressedSizeTooLarge(declared: \(declared), limit: \(limit))"
        case .corruptCompressedPayload: return "corruptCompressedPayload"
        case .truncatedFrame(let received, let expected):
            return "truncatedFrame(received: \(received), expected: \(expected))"
        case .undecodableMessage(let kind, _): return "undecodableMessage(kind: \(kind))"
        case .unencodableMessage: return "unencodableMessage"
        case .busy: return "busy"
        }
    }

    /// Header fields on the first line, then 32 bytes a line.
    private static func hexLines(_ bytes: ByteBuffer) -> String {
        var rest = bytes
        var lines: [String] = []
        if rest.readableBytes >= FrameHeader.size {
            let fields = [4, 1, 1, 2, 8].map { rest.readSlice(length: $0)!.hex }
            lines.append(fields.joined(separator: " "))
        }
        while rest.readableBytes > 0 {
            lines.append(rest.readSlice(length: min(32, rest.readableBytes))!.hex)
        }
        return lines.joined(separator: "\n")
    }
}
