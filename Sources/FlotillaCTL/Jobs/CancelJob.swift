import ArgumentParser
import FlotillaProto

/// `flotillactl jobs cancel`: the job becomes CANCELLED and a live attempt is stopped.
struct CancelJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job; its live attempt, if any, is told to stop.",
        discussion: JSONOutput.help + " The document is a CancelJobResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "Job id.")
    var id: String

    @Option(name: .long, help: "Why, recorded with the job.")
    var reason = "cancelled by flotillactl"

    @Flag(name: .long, help: "Print the CancelJobResponse as JSON.")
    var json = false

    func run() async throws {
        var request = Flotilla_V1_CancelJobRequest()
        request.jobID = id
        request.reason = reason
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_CancelJobResponse.self, notFound: "no job \(id)")
        }
        Console.line(json ? try JSONOutput.line(response) : "job \(response.job.id) is \(response.job.state.name)")
    }
}
