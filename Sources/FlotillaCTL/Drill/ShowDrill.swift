import ArgumentParser
import FlotillaProto

/// `flotillactl drill show ID`: one drill's full report; of a running drill, what is known so far.
struct ShowDrill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a drill's report: target, hypothesis, blast radius, timeline, jobs, recovery, verdict.",
        discussion: "The exit status is 0 whatever the verdict: `show` reports, the drill's own command judges. "
            + JSONOutput.help + " The document is a DrillReport.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "Drill id, e.g. d-42.")
    var id: String

    @Flag(name: .long, help: "Print the DrillReport as JSON.")
    var json = false

    func validate() throws {
        guard !id.isEmpty else { throw ValidationError("ID must not be empty") }
    }

    func run() async throws {
        var request = Flotilla_V1_GetDrillRequest()
        request.id = id
        let report = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_DrillReport.self, notFound: "no drill \(id)")
        }
        Console.line(json ? try JSONOutput.line(report) : DrillReportText.render(report))
    }
}
