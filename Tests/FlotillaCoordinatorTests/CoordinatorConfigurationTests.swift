import FlotillaConfig
import FlotillaCoordinator
import FlotillaCoordinatorState
import FlotillaProto
import Foundation
import Testing

@Suite struct CoordinatorConfigurationTests {
    let tls = "tls: {cert: c.pem, key: k.pem, ca: ca.pem}\n"

    @Test func theShippedConfigurationLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("cluster-configs/coordinator.yaml").path
        let configuration = try CoordinatorConfiguration(reader: try ConfigReader(path: path, environment: [:]))
        #expect(configuration.listen.port == 7400)
        #expect(configuration.health.heartbeatIntervalMs == 5_000)
        #expect(configuration.health.heartbeatTimeoutMs == 15_000)
        #expect(configuration.health.stallTimeoutMs == 60_000)
        #expect(configuration.health.restartGraceMs == 15_000)
        #expect(configuration.retention.jobTTLMs == 24 * 3_600_000)
        #expect(configuration.retention.maxTerminalJobs == 100_000)
    }

    @Test func retentionIsConfigurable() throws {
        let defaults = try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls))
        #expect(defaults.retention == RetentionPolicy())
        let set = try CoordinatorConfiguration(reader: try ConfigReader(
            yaml: tls + "retention: {job_ttl: 2h, max_terminal_jobs: 500}\n",
            environment: ["FLOTILLA_RETENTION_MAX_TERMINAL_JOBS": "700"]))
        #expect(set.retention.jobTTLMs == 2 * 3_600_000)
        #expect(set.retention.maxTerminalJobs == 700)
        #expect(throws: (any Error).self) {
            try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls + "retention: {max_terminal_jobs: -1}\n"))
        }
    }

    @Test func defaultsAreTheSeedsAndEnvironmentOverrides() throws {
        let defaults = try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls))
        #expect(defaults.health.heartbeatIntervalMs == 5_000)
        #expect(defaults.health.missedHeartbeatsBeforeSuspect == 2)
        #expect(defaults.health.heartbeatTimeoutMs == 15_000)
        #expect(defaults.health.stallTimeoutMs == 60_000)
        let overridden = try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls, environment: [
            "FLOTILLA_HEALTH_HEARTBEAT_INTERVAL": "1s", "FLOTILLA_HEALTH_HEARTBEAT_TIMEOUT": "3s",
            "FLOTILLA_LISTEN": "0.0.0.0:9000",
        ]))
        #expect(overridden.health.heartbeatTimeoutMs == 3_000)
        #expect(overridden.health.restartGraceMs == 3_000)
        #expect(overridden.listen.port == 9000)
    }

    @Test(arguments: [
        ("listen: nowhere\n", "listen"),
        ("health: {heartbeat_interval: 20s, heartbeat_timeout: 10s}\n", "health.heartbeat_timeout"),
        ("health: {missed_heartbeats: 0}\n", "health.missed_heartbeats"),
        ("sheduler: {tick: 1s}\n", "sheduler.tick"),
        ("scheduler: {weights: {premium: 0}}\n", "scheduler.weights.premium"),
        ("scheduler: {preemption: {preemptible_tiers: [premium]}}\n", "scheduler.preemption.preemptible_tiers"),
        ("breakers: {half_open_probes: 0}\n", "breakers.half_open_probes"),
        ("breakers: {fallbacks: {mochi-1: mochi-1}}\n", "breakers.fallbacks"),
        ("tenants: [{name: acme, default_tier: gold}]\n", "tenants"),
        ("tenants: [{max_gpus: 4}]\n", "tenants"),
    ])
    func invalidConfigurationNamesTheKey(yaml: String, key: String) throws {
        let error = try #require(throws: ConfigError.self) {
            try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls + yaml, source: "c.yaml"))
        }
        #expect(error.key.hasPrefix(key), "\(error)")
    }

    @Test func schedulingBreakersAndTenantsHaveTheSeedsDefaultsAndOverrides() throws {
        let defaults = try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls))
        #expect(defaults.scheduler.weights == [.premium: 6, .standard: 3, .free: 1])
        #expect(defaults.scheduler.preemption.graceMs == 60_000)
        #expect(defaults.breakers.failureThreshold == 5 && defaults.breakers.windowMs == 60_000)
        #expect(defaults.breakers.recoveryMs == 30_000 && defaults.breakers.halfOpenProbes == 3)
        #expect(defaults.tenants.isEmpty)
        let configured = try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls + """
            scheduler: {weights: {premium: 8}, aging_interval: 0, preemption: {preemptible_tiers: [free], grace: 5s}}
            breakers: {recovery: 2s, fallbacks: {mochi-1: open-sora}}
            tenants: [{name: acme, max_gpus: 8, max_queued_jobs: 50, default_tier: premium}]
            """, environment: ["FLOTILLA_BREAKERS_FAILURE_THRESHOLD": "2"]))
        #expect(configured.scheduler.weight(of: .premium) == 8)
        #expect(configured.scheduler.agingIntervalMs == 0)
        #expect(configured.scheduler.preemption.preemptibleTiers == [.free])
        #expect(configured.scheduler.preemption.graceMs == 5_000)
        #expect(configured.breakers.recoveryMs == 2_000 && configured.breakers.failureThreshold == 2)
        #expect(configured.breakers.fallbackChain(for: "mochi-1") == ["open-sora"])
        #expect(configured.tenants.map(\.tenant) == ["acme"])
        #expect(configured.tenants.first?.maxGpus == 8 && configured.tenants.first?.defaultTier == .premium)
    }

    @Test func missingTLSIsNamed() throws {
        let error = try #require(throws: ConfigError.self) {
            try CoordinatorConfiguration(reader: try ConfigReader(yaml: "name: c\n"))
        }
        #expect(error.key == "tls.cert")
    }
}
