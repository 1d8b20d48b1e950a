import ArgumentParser
import FlotillaProto

/// `flotillactl jobs get`: one job's record, its attempts and latest checkpoint.
struct GetJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show a job: spec, state, progress, attempt history and latest checkpoint.",
        discussion: JSONOutput.help + " The document is a GetJobResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "Job id.")
    var id: String

    @Flag(name: .long, help: "Print the GetJobResponse as JSON.")
    var json = false

    func run() async throws {
        var request = Flotilla_V1_GetJobRequest()
        request.jobID = id
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_GetJobResponse.self, notFound: "no job \(id)")
        }
        Console.line(json ? try JSONOutput.line(response) : JobDetail(response.job).text)
    }
}
