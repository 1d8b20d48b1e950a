import ArgumentParser
import FlotillaClusterSimulation

/// Runs the whole-region simulation over many more seeds than the test suite, or replays one
/// seed with a trace of every step (the command a failing test prints).
struct ClusterSimBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster-sim",
        abstract: "Seeded simulations of replicated coordinators, workers and a client under crashes, partitions and loss.")

    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds from --seed on.") var seeds: Int = 1
    @Option(help: "Coordinators in the region (3 or 5).") var coordinators: Int = 3
    @Option(help: "Simulated workers, two GPUs each.") var workers: Int = 3
    @Option(help: "Steps (100 ms each) of faults before the healed phase.") var steps: Int = 600
    @Flag(help: "Print every step of each run.") var verbose = false

    func run() throws {
        let start = Measure.now()
        var failures = 0
        var totals = ClusterSimulationReport(seed: seed)
        for seed in seed..<(seed + UInt64(seeds)) {
            var simulation = ClusterSimulation(options: ClusterSimulationOptions(
                seed: seed, coordinators: coordinators, workers: workers, steps: steps))
            if verbose { simulation.trace = [] }
            do {
                totals.add(try simulation.run())
            } catch {
                failures += 1
                print("FAILED \(error)")
            }
            if verbose { simulation.trace?.forEach { print($0) } }
        }
        let seconds = Double(Measure.now() - start) / 1e9
        print("cluster-sim: \(seeds) seeds, \(coordinators) coordinators, \(workers) workers, \(steps) steps each: \(failures) failed, "
              + ClusterSimBench.describe(totals) + String(format: ", %.1f s", seconds))
        if failures > 0 { throw ExitCode.failure }
    }

    static func describe(_ report: ClusterSimulationReport) -> String {
        "\(report.leadersElected) leaders, \(report.crashes) crashes, \(report.partitions) partitions, "
            + "\(report.workerCuts) worker cuts, \(report.acknowledged)/\(report.submissions) submissions acknowledged (\(report.resent) after a resend), "
            + "\(report.succeeded) jobs succeeded in \(report.attempts) attempts (\(report.reattempted) needed more than one), "
            + "\(report.snapshotsInstalled) snapshots installed, \(report.workerSessions) worker sessions, "
            + "\(report.fencings) fencings, slowest recovery \(report.recoverySteps) steps"
    }
}
