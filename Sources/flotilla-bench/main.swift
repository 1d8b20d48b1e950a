import ArgumentParser

/// `flotilla-bench`: prints the figures the README's performance section quotes.
/// Run it in release: `swift run -c release flotilla-bench wire`.
struct FlotillaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-bench",
        abstract: "Flotilla benchmarks (run with -c release).",
        subcommands: [WireBench.self, FuzzBench.self, RPCBench.self]
    )
}

await FlotillaBench.main()
