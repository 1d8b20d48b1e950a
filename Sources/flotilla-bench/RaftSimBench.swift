import ArgumentParser
import FlotillaRaftSimulation

/// Runs the Raft simulation over many more seeds than the test suite, or replays one seed
/// with a trace of every step (the command a failing test prints).
struct RaftSimBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft-sim", abstract: "Seeded simulations of a Raft group under crashes, partitions and message loss.")

    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds from --seed on.") var seeds: Int = 1
    @Option(help: "Nodes in the group (3 or 5).") var nodes: Int = 3
    @Option(help: "Steps of faults before the healed phase.") var steps: Int = 600
    @Flag(help: "Start with three voters and change membership during the run.") var membership = false
    @Flag(help: "Tell followers when their leader's connection closes (forgetLeader).") var leaderHints = false
    @Flag(help: "Print every step of each run.") var verbose = false

    func run() throws {
        let start = Measure.now()
        var failures = 0
        var leaders = 0, acknowledged = 0, slowest = 0
        for seed in seed..<(seed + UInt64(seeds)) {
            var simulation = RaftSimulation(options: SimulationOptions(seed: seed, nodes: nodes, steps: steps, membershipChanges: membership,
                                                                       leaderHints: leaderHints))
            if verbose { simulation.trace = [] }
            do {
                let report = try simulation.run()
                leaders += report.leadersElected
                acknowledged += report.acknowledged
                slowest = max(slowest, report.recoverySteps)
            } catch {
                failures += 1
                print("FAILED \(error)")
            }
            if verbose { simulation.trace?.forEach { print($0) } }
        }
        let seconds = Double(Measure.now() - start) / 1e9
        print("raft-sim: \(seeds) seeds, \(nodes) nodes\(membership ? " with membership changes" : ""), \(steps) steps each: "
              + "\(failures) failed, \(leaders) leaders elected, \(acknowledged) acknowledged, slowest recovery \(slowest) steps, "
              + String(format: "%.1f s", seconds))
        if failures > 0 { throw ExitCode.failure }
    }
}
