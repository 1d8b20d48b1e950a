import ArgumentParser
import FlotillaProto

/// `flotillactl workers drain`: no new work for a worker; its running attempts finish.
struct DrainWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Drain a worker: it gets no new work and becomes DRAINED once its attempts end.",
        discussion: JSONOutput.help + " The document is a DrainWorkerResponse.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "Worker id or name.")
    var worker: String

    @Option(name: .long, help: "Why, for the coordinator's log and the worker.")
    var reason = "drained by flotillactl"

    @Flag(name: .long, help: "Print the DrainWorkerResponse as JSON.")
    var json = false

    func run() async throws {
        var request = Flotilla_V1_DrainWorkerRequest()
        request.worker = worker
        request.reason = reason
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_DrainWorkerResponse.self, notFound: "no worker \(worker)")
        }
        let drained = response.worker
        Console.line(json ? try JSONOutput.line(response) : "worker \(drained.name) (\(drained.id)) is \(drained.state.name)")
    }
}
