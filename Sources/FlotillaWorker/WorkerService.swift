import ServiceLifecycle

/// The agent as a ServiceLifecycle service: graceful shutdown (SIGTERM, SIGINT)
/// drains it, and `run` returns once the drain is done.
public struct WorkerService: Service {
    public let agent: WorkerAgent
    public let shutdownReason: String

    public init(agent: WorkerAgent, shutdownReason: String = "SIGTERM") {
        self.agent = agent
        self.shutdownReason = shutdownReason
    }

    public func run() async throws {
        let agent = self.agent
        let reason = shutdownReason
        await withGracefulShutdownHandler {
            await agent.run()
        } onGracefulShutdown: {
            Task { await agent.drain(reason: reason) }
        }
    }
}
