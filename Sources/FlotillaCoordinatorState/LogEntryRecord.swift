import FlotillaProto
import SwiftProtobuf

/// One entry of the coordinator's log: its position, the leader term that
/// wrote it, and the command. The log stores the command encoded (`payload`).
public struct LogEntryRecord: Hashable, Sendable {
    public var index: UInt64
    public var term: UInt64
    public var command: Flotilla_V1_Command

    public init(index: UInt64, term: UInt64, command: Flotilla_V1_Command) {
        self.index = index
        self.term = term
        self.command = command
    }

    /// Decodes an entry read back from the log.
    public init(index: UInt64, term: UInt64, payload: [UInt8]) throws {
        self.init(index: index, term: term, command: try Flotilla_V1_Command(serializedBytes: payload))
    }

    /// The command as the log stores it. Deterministic (map fields sorted), so
    /// every replica writes the same bytes for the same command.
    public func payload() throws -> [UInt8] {
        try command.serializedBytes(options: .deterministic)
    }
}

extension BinaryEncodingOptions {
    static var deterministic: Self {
        var options = Self()
        options.useDeterministicOrdering = true
        return options
    }
}
