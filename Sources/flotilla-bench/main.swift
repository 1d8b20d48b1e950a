import ArgumentParser

/// `flotilla-bench`: prints the figures the README's performance section quotes.
/// Run it in release: `swift run -c release flotilla-bench wire`.
struct FlotillaBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-bench",
        abstract: "Flotilla benchmarks (run with -c release).",
        subcommands: [
            WireBench.self, FuzzBench.self, RPCBench.self, ClusterBench.self, ScheduleBench.self, StateBench.self,
            AttackBench.self, RaftSimBench.self, ClusterSimBench.self, RaftBench.self,
        ]
    )
}

// The async benchmark is dispatched by hand: ArgumentParser's synchronous entry point
// would only print its help.
do {
    var command = try FlotillaBench.parseAsRoot()
    if let rpc = command as? RPCBench {
        try await rpc.measure()
    } else if let cluster = command as? ClusterBench {
        try await cluster.measure()
    } else if let raft = command as? RaftBench {
        try await raft.measure()
    } else if let attacks = command as? AttackBench {
        try await attacks.measure()
    } else {
        try command.run()
    }
} catch {
    FlotillaBench.exit(withError: error)
}
