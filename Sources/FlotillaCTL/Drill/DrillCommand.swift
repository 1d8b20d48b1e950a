import ArgumentParser

/// `flotillactl drill`: failures caused on purpose to check that the cluster recovers as it should.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run failover drills and read their reports (admin certificate).",
        subcommands: [
            KillWorkerDrill.self, FreezeWorkerDrill.self, CorruptCheckpointDrill.self, SlowWorkerDrill.self,
            FailZoneDrill.self, LeaderFailoverDrill.self, ListDrills.self, ShowDrill.self,
        ])
}
