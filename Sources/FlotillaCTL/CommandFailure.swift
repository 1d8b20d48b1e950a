import ArgumentParser

/// A command that ran and could not do what was asked. `flotillactl` prints it as one
/// line, "flotillactl: <message>", and exits with `exitCode`.
public struct CommandFailure: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let exitCode: Int32

    public init(_ message: String, exitCode: Int32 = ExitCode.failure.rawValue) {
        self.message = message
        self.exitCode = exitCode
    }

    /// An argument that parsed but is not acceptable (the usage exit status, 64).
    public static func invalidArgument(_ message: String) -> CommandFailure {
        CommandFailure(message, exitCode: ExitCode.validationFailure.rawValue)
    }

    public var description: String { message }
}
