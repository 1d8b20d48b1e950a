import ArgumentParser
import FlotillaProto
import Foundation

/// `flotillactl jobs list`: jobs matching every filter given, newest submission first.
struct ListJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List jobs, newest first.",
        discussion: JSONOutput.help + " The document is a ListJobsResponse (nextPageToken set when more remain).")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Option(name: .long, help: "Only jobs in this state (repeatable: any of them).")
    var state: [JobStateArgument] = []

    @Option(name: .long, help: "Only this tenant's jobs.")
    var tenant: String?

    @Option(name: .long, help: "Only jobs for this model.")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Only jobs with an attempt on this worker.", valueName: "worker-id"))
    var worker: String?

    @Option(name: .long, help: "At most this many jobs (default: the server's, 100; at most 1000).")
    var limit: UInt32?

    @Option(name: .customLong("page-token"), help: "Continue after a previous page (its nextPageToken).")
    var pageToken: String?

    @Flag(name: .long, help: "Print the ListJobsResponse as JSON.")
    var json = false

    func run() async throws {
        var request = Flotilla_V1_ListJobsRequest()
        request.states = state.map(\.proto)
        request.tenant = tenant ?? ""
        request.model = model ?? ""
        request.workerID = worker ?? ""
        request.limit = limit ?? 0
        request.pageToken = pageToken ?? ""
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_ListJobsResponse.self)
        }
        if json {
            Console.line(try JSONOutput.line(response))
            return
        }
        Console.line(JobTable(response.jobs).text)
        if !response.nextPageToken.isEmpty {
            FileHandle.standardError.write(Data("more jobs: add --page-token \(response.nextPageToken)\n".utf8))
        }
    }
}
