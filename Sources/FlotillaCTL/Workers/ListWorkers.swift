import ArgumentParser
import FlotillaProto

/// `flotillactl workers [list]`: every worker the region knows, its GPUs, models and heartbeat.
struct ListWorkers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List workers: state, GPUs, models, last heartbeat, running attempts.",
        discussion: JSONOutput.help + " The document is a ListWorkersResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the ListWorkersResponse as JSON.")
    var json = false

    func run() async throws {
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(Flotilla_V1_ListWorkersRequest(), expecting: Flotilla_V1_ListWorkersResponse.self)
        }
        Console.line(json ? try JSONOutput.line(response) : WorkerTable(response.workers).text)
    }
}
