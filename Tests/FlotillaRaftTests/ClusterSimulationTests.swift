import FlotillaClusterSimulation
import Testing

/// Seeded simulations of a whole replicated region (see `ClusterSimulation`): coordinators
/// with their Raft node, log, state and planner, workers and a client, under crashes,
/// partitions, loss, duplication and reordering. A failing seed prints the command that
/// replays it with a trace of every step; `flotilla-bench cluster-sim --seeds N` runs more.
@Suite struct ClusterSimulationTests {
    struct Shape: CustomStringConvertible, Sendable {
        var coordinators: Int
        var workers: Int
        var seeds: Range<UInt64>
        var description: String { "\(coordinators) coordinators, \(workers) workers, seeds \(seeds)" }
    }

    static let shapes = [
        Shape(coordinators: 3, workers: 3, seeds: 0..<750),
        Shape(coordinators: 5, workers: 4, seeds: 5_000..<5_250),
    ]

    @Test(arguments: shapes)
    func everySeedKeepsTheJobInvariants(_ shape: Shape) {
        var totals = ClusterSimulationReport(seed: 0)
        for seed in shape.seeds {
            var simulation = ClusterSimulation(options: ClusterSimulationOptions(
                seed: seed, coordinators: shape.coordinators, workers: shape.workers))
            do {
                totals.add(try simulation.run())
            } catch {
                Issue.record("\(error)")
                return
            }
        }
        // The runs must have been hostile and busy, or passing them proves little.
        let seeds = shape.seeds.count
        #expect(totals.leadersElected > seeds * 4)
        #expect(totals.crashes > seeds * 3)
        #expect(totals.partitions > seeds)
        #expect(totals.workerCuts > seeds * 2)
        #expect(totals.fencings > seeds / 10, "cut workers must have outlasted their fencing time")
        #expect(totals.acknowledged == totals.submissions)
        #expect(totals.acknowledged > seeds * 40)
        #expect(totals.succeeded >= totals.acknowledged)
        #expect(totals.resent > seeds * 10)
        #expect(totals.reattempted > 0)
        #expect(totals.snapshotsInstalled > seeds)
        #expect(totals.workerSessions > seeds * 10)
        print("cluster simulation \(shape): \(totals.leadersElected) leaders, \(totals.crashes) crashes, "
              + "\(totals.partitions) partitions, \(totals.workerCuts) worker cuts, \(totals.acknowledged) acknowledged, \(totals.succeeded) succeeded in "
              + "\(totals.attempts) attempts, \(totals.snapshotsInstalled) snapshots installed, \(totals.fencings) fencings, "
              + "slowest recovery \(totals.recoverySteps) steps")
    }

    /// The same seed gives the same run, step for step.
    @Test func aSeedReplaysExactly() throws {
        var first = ClusterSimulation(options: ClusterSimulationOptions(seed: 7, coordinators: 5, workers: 4))
        var second = ClusterSimulation(options: ClusterSimulationOptions(seed: 7, coordinators: 5, workers: 4))
        first.trace = []
        second.trace = []
        #expect(try first.run() == second.run())
        #expect(first.trace == second.trace)
        #expect((first.trace?.count ?? 0) > 20)
    }

    /// The checks can fail: a planner that declares workers lost at once after a failover
    /// (no restart grace, a timeout shorter than the workers' self-fencing) starts jobs that
    /// still run elsewhere, and the simulation says so.
    /// The projection check can fail: a leader whose projection drops commands is caught at
    /// the first entry where its projection and the committed state should agree.
    @Test func aProjectionOutOfStepIsCaught() {
        var failures = 0
        for seed in UInt64(0)..<10 {
            var options = ClusterSimulationOptions(seed: seed)
            options.projectionFault = true
            var simulation = ClusterSimulation(options: options)
            do { _ = try simulation.run() } catch {
                failures += 1
                #expect(error.invariant.contains("projection"), "\(error)")
            }
        }
        #expect(failures == 10)
    }

    @Test func aPlannerWithoutGraceIsCaught() {
        var failures = 0
        for seed in UInt64(0)..<20 {
            var options = ClusterSimulationOptions(seed: seed)
            options.heartbeatTimeoutMs = 6_000
            options.restartGraceMs = 0
            var simulation = ClusterSimulation(options: options)
            do { _ = try simulation.run() } catch {
                failures += 1
                #expect(error.invariant.contains("at once") || error.invariant.contains("GPU"), "\(error)")
            }
        }
        #expect(failures > 0)
    }
}
