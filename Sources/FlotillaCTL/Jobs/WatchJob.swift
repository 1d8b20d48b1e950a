import ArgumentParser

/// `flotillactl jobs watch`: one line per event until the job ends.
struct WatchJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print a job's events as they happen until it ends; exit 0 only if it SUCCEEDED.",
        discussion: """
            Each line: local time, state, attempt and worker, progress, where the attempt resumed, and the \
            coordinator's note, e.g. "12:00:01.234 RUNNING attempt 2 on w-3 step 40/100 resumed from \
            checkpoint step 30". A watch lost with its connection or to a leader change is reopened; \
            the first event after it restates the job. --timeout bounds each request, not the watch. 
            """ + JSONOutput.help + " Each document is a JobEvent.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "Job id.")
    var id: String

    @Flag(name: .long, help: "Print each JobEvent as a JSON document on its own line.")
    var json = false

    func run() async throws {
        try await ClusterSession.with(connection) { session in
            let ending = try await JobWatch(session: session, jobID: id, json: json).run()
            if let failure = ending.unsuccessfulEnding { throw failure }
        }
    }
}
