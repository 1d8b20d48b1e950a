import ArgumentParser

/// `flotillactl workers`: the fleet as the coordinator sees it; `workers` alone lists it.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List and drain workers (admin certificate).",
        subcommands: [ListWorkers.self, DrainWorker.self],
        defaultSubcommand: ListWorkers.self)
}
