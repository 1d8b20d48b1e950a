import FlotillaConfig
import FlotillaCoordinator
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
    ])
    func invalidConfigurationNamesTheKey(yaml: String, key: String) throws {
        let error = try #require(throws: ConfigError.self) {
            try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls + yaml, source: "c.yaml"))
        }
        #expect(error.key.hasPrefix(key), "\(error)")
    }

    @Test func missingTLSIsNamed() throws {
        let error = try #require(throws: ConfigError.self) {
            try CoordinatorConfiguration(reader: try ConfigReader(yaml: "name: c\n"))
        }
        #expect(error.key == "tls.cert")
    }
}
