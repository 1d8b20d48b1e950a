import ArgumentParser

/// `flotillactl jobs`: submit, inspect, follow and cancel jobs.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Submit, list, inspect, watch and cancel jobs.",
        subcommands: [SubmitJob.self, ListJobs.self, GetJob.self, WatchJob.self, CancelJob.self])
}
