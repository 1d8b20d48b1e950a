import FlotillaConfig
import Testing

/// Overflowing numbers in YAML or the environment are refused with the key named;
/// before, `UInt64(Double)` of `99999999999999999999s` trapped (SIGILL).
@Suite struct NumericBoundsTests {
    @Test(arguments: ["99999999999999999999s", "18446744073709551615ms", "18446744073709551615", "1e300h", "3651d"])
    func overflowingDurationInYAMLNamesTheKey(text: String) throws {
        let reader = try ConfigReader(yaml: "health:\n  heartbeat_timeout: \"\(text)\"\n", source: "c.yaml")
        let error = try #require(throws: ConfigError.self) {
            try reader.milliseconds("health.heartbeat_timeout", default: 15_000)
        }
        #expect(error.key == "health.heartbeat_timeout in c.yaml")
        #expect(error.message.contains("at most 3650 days"))
    }

    @Test func overflowingDurationInTheEnvironmentNamesTheVariable() throws {
        let reader = try ConfigReader(
            yaml: nil, environment: ["FLOTILLA_HEALTH_STALL_TIMEOUT": "99999999999999999999s"])
        let error = try #require(throws: ConfigError.self) {
            try reader.milliseconds("health.stall_timeout", default: 60_000)
        }
        #expect(error.key == "FLOTILLA_HEALTH_STALL_TIMEOUT")
    }

    @Test func longestDurationIsAccepted() throws {
        let reader = try ConfigReader(yaml: "a: 3650d\nb: 2d\nc: 1.5s\n")
        #expect(try reader.milliseconds("a", default: 0) == ConfigReader.maximumMilliseconds)
        #expect(try reader.milliseconds("b", default: 0) == 172_800_000)
        #expect(try reader.milliseconds("c", default: 0) == 1_500)
    }

    @Test(arguments: ["99999999999999999999", "-99999999999999999999", "1e30"])
    func overflowingIntegerNamesTheKey(text: String) throws {
        let reader = try ConfigReader(yaml: "log:\n  segment_bytes: \(text)\n", source: "c.yaml")
        let error = try #require(throws: ConfigError.self) {
            try reader.integer("log.segment_bytes", default: 1, in: 1...(1 << 30))
        }
        #expect(error.key == "log.segment_bytes in c.yaml")
    }

    @Test func unknownFlotillaVariablesAreNamed() throws {
        let reader = try ConfigReader(yaml: "name: c1\n", environment: [
            "FLOTILLA_NAME": "c2",
            "FLOTILLA_HEALTH_HEARTBEAT_TIMEOUT_MS": "5000",
            "FLOTILLA_ADDR": "127.0.0.1:7400",
            "HOME": "/root",
        ])
        _ = try reader.string("name", default: "")
        _ = try reader.milliseconds("health.heartbeat_timeout", default: 1)
        try reader.finish()
        #expect(reader.unknownEnvironmentVariables == ["FLOTILLA_HEALTH_HEARTBEAT_TIMEOUT_MS"])
        #expect(reader.environmentWarnings.count == 1)
        #expect(reader.environmentWarnings[0].contains("FLOTILLA_HEALTH_HEARTBEAT_TIMEOUT_MS"))
    }
}
