import ArgumentParser
import FlotillaProto

/// `flotillactl breakers [list]`: every model's breaker, its probes and its fallback chain.
struct ListBreakers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List circuit breakers: state, recent failures, next transition, probes, fallback chain.",
        discussion: JSONOutput.help + " The document is a ListBreakersResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the ListBreakersResponse as JSON.")
    var json = false

    func run() async throws {
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(Flotilla_V1_ListBreakersRequest(), expecting: Flotilla_V1_ListBreakersResponse.self)
        }
        Console.line(json ? try JSONOutput.line(response) : BreakerText.table(response.breakers))
    }
}
