import FlotillaCoordinatorState
import FlotillaProto
import Testing

/// Drill records in the replicated state: one running at a time, kept in snapshots.
@Suite struct DrillRecordTests {
    func report(_ kind: Flotilla_V1_DrillRequest.Kind = .killWorker) -> Flotilla_V1_DrillReport {
        var report = Flotilla_V1_DrillReport()
        report.kind = kind
        report.target = "gpu-1"
        return report
    }

    @Test func aSecondDrillIsRefusedWhileOneRuns() throws {
        var cluster = DrillCluster()
        let first = cluster.apply(.drillStarted(report(), at: 10))
        let id = try #require(first.drillID)
        #expect(cluster.state.runningDrill?.id == id)
        let second = cluster.apply(.drillStarted(report(.freezeWorker), at: 11))
        #expect(second.rejection?.code == .failedPrecondition)
        #expect(second.rejection?.message.contains("one drill at a time") == true)

        var ended = cluster.state.drill(id)!
        ended.verdict = .pass
        #expect(cluster.apply(.drillEnded(ended, at: 20)).isAccepted)
        #expect(cluster.state.runningDrill == nil)
        #expect(cluster.state.drill(id)?.endedUnixMs == 20)
        #expect(cluster.state.drill(id)?.startedUnixMs == 10)
        #expect(cluster.apply(.drillEnded(ended, at: 21)).duplicate)
        #expect(cluster.apply(.drillStarted(report(.freezeWorker), at: 30)).isAccepted)
    }

    @Test func aDrillCannotEndRunning() throws {
        var cluster = DrillCluster()
        let id = try #require(cluster.apply(.drillStarted(report(), at: 10)).drillID)
        var still = cluster.state.drill(id)!
        still.verdict = .running
        #expect(cluster.apply(.drillEnded(still, at: 11)).rejection?.code == .invalidArgument)
    }

    @Test func snapshotsKeepTheLatestDrills() throws {
        var cluster = DrillCluster()
        for round in 0..<(CoordinatorState.drillsKept + 5) {
            let id = try #require(cluster.apply(.drillStarted(report(), at: UInt64(round))).drillID)
            var ended = cluster.state.drill(id)!
            ended.verdict = .aborted
            cluster.apply(.drillEnded(ended, at: UInt64(round)))
        }
        #expect(cluster.state.drills.count == CoordinatorState.drillsKept)
        let restored = try CoordinatorState(snapshotBytes: try cluster.state.snapshotBytes())
        #expect(restored == cluster.state)
        #expect(restored.drills.last?.verdict == .aborted)
    }
}
