import ArgumentParser

/// The root of `flotillactl`. Each concern is a subcommand group listed in
/// `Flotillactl.commandGroups`.
public struct Flotillactl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flotillactl",
        abstract: "Administer a Flotilla GPU job cluster.",
        subcommands: commandGroups)

    public init() {}
}
