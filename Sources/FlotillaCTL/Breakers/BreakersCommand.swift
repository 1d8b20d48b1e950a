import ArgumentParser

/// `flotillactl breakers`: the per-model circuit breakers; `breakers` alone lists them.
struct BreakersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "breakers",
        abstract: "List, reset and trip the models' circuit breakers (admin certificate).",
        subcommands: [ListBreakers.self, ResetBreaker.self, TripBreaker.self],
        defaultSubcommand: ListBreakers.self)
}
