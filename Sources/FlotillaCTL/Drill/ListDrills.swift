import ArgumentParser
import FlotillaProto

/// `flotillactl drill list`: the drills the coordinator keeps, newest first.
struct ListDrills: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List recent drills: kind, target, verdict, when, detection and slowest recovery, who ran it.",
        discussion: JSONOutput.help + " The document is a ListDrillsResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Option(name: .long, help: "At most this many drills (default: all the coordinator keeps, 100).")
    var limit: UInt32?

    @Flag(name: .long, help: "Print the ListDrillsResponse as JSON.")
    var json = false

    func run() async throws {
        var request = Flotilla_V1_ListDrillsRequest()
        request.limit = limit ?? 0
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_ListDrillsResponse.self)
        }
        Console.line(json ? try JSONOutput.line(response) : DrillTable(response.drills).text)
    }
}
