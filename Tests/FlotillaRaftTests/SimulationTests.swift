import Foundation
import FlotillaRaftSimulation
import Testing

/// Seeded simulations of whole Raft groups (see `RaftSimulation`): 1,000 seeds across three
/// shapes. A failing seed prints the command that replays it with a trace of every step.
@Suite struct SimulationTests {
    struct Shape: CustomStringConvertible, Sendable {
        var nodes: Int
        var membership: Bool
        var seeds: Range<UInt64>
        var leaderHints = false
        var description: String {
            "\(nodes) nodes\(membership ? " with membership changes" : "")\(leaderHints ? " with leader hints" : ""), seeds \(seeds)"
        }
    }

    static let shapes = [
        Shape(nodes: 3, membership: false, seeds: 0..<500),
        Shape(nodes: 5, membership: false, seeds: 10_000..<10_300),
        Shape(nodes: 5, membership: true, seeds: 20_000..<20_200),
        Shape(nodes: 3, membership: false, seeds: 30_000..<30_200, leaderHints: true),
    ]

    @Test(arguments: shapes)
    func everySeedKeepsTheInvariants(_ shape: Shape) {
        var totals = SimulationReport(seed: 0)
        for seed in shape.seeds {
            var simulation = RaftSimulation(options: SimulationOptions(seed: seed, nodes: shape.nodes, membershipChanges: shape.membership,
                                                                       leaderHints: shape.leaderHints))
            do {
                let report = try simulation.run()
                totals.leadersElected += report.leadersElected
                totals.acknowledged += report.acknowledged
                totals.crashes += report.crashes
                totals.partitions += report.partitions
                totals.snapshotsSent += report.snapshotsSent
                totals.membershipChanges += report.membershipChanges
                totals.leaderHints += report.leaderHints
                totals.messagesDropped += report.messagesDropped
                totals.recoverySteps = max(totals.recoverySteps, report.recoverySteps)
            } catch {
                Issue.record("\(error)")
                return
            }
        }
        // The runs must have been hostile and busy, or passing them proves nothing.
        let seeds = shape.seeds.count
        #expect(totals.leadersElected > seeds * 2)
        #expect(totals.acknowledged > seeds * 20)
        #expect(totals.crashes > seeds)
        #expect(totals.partitions > seeds)
        #expect(totals.snapshotsSent > seeds / 10)
        #expect(totals.messagesDropped > seeds * 10)
        if shape.membership { #expect(totals.membershipChanges > seeds) }
        if shape.leaderHints { #expect(totals.leaderHints > seeds) }
        print("simulation \(shape): \(totals.leadersElected) leaders, \(totals.acknowledged) acknowledged, "
              + "\(totals.crashes) crashes, \(totals.partitions) partitions, \(totals.snapshotsSent) snapshots, "
              + "\(totals.membershipChanges) membership changes, slowest recovery \(totals.recoverySteps) steps")
    }

    /// Seeds that once exposed a broken rule: 1471 commits an older term's entry by counting
    /// replicas when the own-term check of §5.4.2 is removed (the Figure 8 case).
    @Test(arguments: [UInt64(1471)])
    func seedsThatFoundBugs(_ seed: UInt64) throws {
        var simulation = RaftSimulation(options: SimulationOptions(seed: seed, nodes: 3))
        let report = try simulation.run()
        #expect(report.leadersElected > 3)
    }

    /// The same seed gives the same run, step for step.
    @Test func aSeedReplaysExactly() throws {
        var first = RaftSimulation(options: SimulationOptions(seed: 42, nodes: 5, membershipChanges: true))
        var second = RaftSimulation(options: SimulationOptions(seed: 42, nodes: 5, membershipChanges: true))
        first.trace = []
        second.trace = []
        #expect(try first.run() == second.run())
        #expect(first.trace == second.trace)
        #expect((first.trace?.count ?? 0) > 50)
    }
}
