import SwiftProtobuf

/// `--json` output: the protocol's own response message in the proto3 JSON mapping, one
/// compact document per line, so scripts read what the cluster said, field for field.
/// lowerCamelCase names, enums by their proto names (e.g. "JOB_STATE_RUNNING"), 64-bit
/// integers as strings, and fields at their default value (0, "", false) left out.
enum JSONOutput {
    static let help = """
        --json prints the protocol's response message in the proto3 JSON mapping, one document \
        per line: lowerCamelCase field names, enum values by name (e.g. JOB_STATE_RUNNING), \
        64-bit integers as strings, fields at their default value (0, "", false) omitted.
        """

    static func line(_ message: any SwiftProtobuf.Message) throws -> String {
        try message.jsonString()
    }
}
