import ArgumentParser
import FlotillaProto

/// `flotillactl breakers reset MODEL`: the breaker closes and forgets its failures.
struct ResetBreaker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Close a model's breaker and clear its failure count.",
        discussion: JSONOutput.help + " The document is a BreakerActionResponse.")

    @OptionGroup var action: BreakerActionOptions

    func run() async throws {
        try await action.send(.reset)
    }
}

/// `flotillactl breakers trip MODEL`: the breaker opens, as if the model had kept failing.
struct TripBreaker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trip",
        abstract: "Open a model's breaker: new jobs fail fast or go to its fallback chain until it half-opens.",
        discussion: JSONOutput.help + " The document is a BreakerActionResponse.")

    @OptionGroup var action: BreakerActionOptions

    func run() async throws {
        try await action.send(.trip)
    }
}

/// What `reset` and `trip` share: the model, the connection and `--json`.
struct BreakerActionOptions: ParsableArguments {
    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Argument(help: "Model whose breaker to change.")
    var model: String

    @Flag(name: .long, help: "Print the BreakerActionResponse as JSON.")
    var json = false

    func validate() throws {
        guard !model.isEmpty else { throw ValidationError("MODEL must not be empty") }
    }

    /// Sends the action and prints the breaker as the coordinator left it. An unknown
    /// model is the server's NOT_FOUND message.
    func send(_ action: Flotilla_V1_BreakerActionRequest.Action) async throws {
        var request = Flotilla_V1_BreakerActionRequest()
        request.model = model
        request.action = action
        let response = try await ClusterSession.with(connection) { session in
            try await session.request(request, expecting: Flotilla_V1_BreakerActionResponse.self)
        }
        Console.line(json ? try JSONOutput.line(response) : BreakerText.line(response.breaker))
    }
}
