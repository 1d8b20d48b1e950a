import FlotillaConfig
import Testing

@Suite struct ConfigReaderTests {
    let yaml = """
        name: c1
        listen: 127.0.0.1:7400
        health:
          heartbeat_interval: 5s
          heartbeat_timeout: 15000
        labels: {zone: a, rack: "7"}
        coordinators: [a:1, b:2]
        models:
          - {name: sdxl, step_duration: 250ms}
          - {name: llama, failure_rate: 0.5}
        """

    @Test func readsNestedKeysWithDefaults() throws {
        let reader = try ConfigReader(yaml: yaml, source: "test.yaml")
        #expect(try reader.string("name", default: "x") == "c1")
        #expect(try reader.milliseconds("health.heartbeat_interval", default: 1) == 5_000)
        #expect(try reader.milliseconds("health.heartbeat_timeout", default: 1) == 15_000)
        #expect(try reader.milliseconds("health.stall_timeout", default: 60_000) == 60_000)
        #expect(try reader.stringMap("labels") == ["zone": "a", "rack": "7"])
        #expect(try reader.strings("coordinators") == ["a:1", "b:2"])
        let models = try reader.table("models") { item in
            (try item.string("name", default: ""), try item.milliseconds("step_duration", default: 100),
             try item.double("failure_rate", default: 0, in: 0...1))
        }
        #expect(models.map(\.0) == ["sdxl", "llama"])
        #expect(models.map(\.1) == [250, 100])
        #expect(models.map(\.2) == [0, 0.5])
        _ = try reader.string("listen", default: "")
        try reader.finish()
    }

    @Test func environmentOverridesEveryKindOfValue() throws {
        let reader = try ConfigReader(yaml: yaml, source: "test.yaml", environment: [
            "FLOTILLA_NAME": "from-env",
            "FLOTILLA_HEALTH_HEARTBEAT_INTERVAL": "2s",
            "FLOTILLA_COORDINATORS": "x:1,y:2,z:3",
            "FLOTILLA_LABELS": "{zone: b}",
        ])
        #expect(try reader.string("name", default: "") == "from-env")
        #expect(try reader.milliseconds("health.heartbeat_interval", default: 1) == 2_000)
        #expect(try reader.strings("coordinators") == ["x:1", "y:2", "z:3"])
        #expect(try reader.stringMap("labels") == ["zone": "b"])
        #expect(reader.environmentName(for: "health.heartbeat_interval") == "FLOTILLA_HEALTH_HEARTBEAT_INTERVAL")
    }

    @Test func unknownKeyIsNamed() throws {
        let reader = try ConfigReader(yaml: "name: a\nhealth:\n  hearbeat_interval: 5s\n", source: "c.yaml")
        _ = try reader.string("name", default: "")
        _ = try reader.milliseconds("health.heartbeat_interval", default: 1)
        let error = try #require(throws: ConfigError.self) { try reader.finish() }
        #expect(error.key == "health.hearbeat_interval")
        #expect(error.description.contains("unknown key in c.yaml"))
    }

    @Test func badValuesNameTheirKeyOrVariable() throws {
        let reader = try ConfigReader(yaml: "port: seven\nwait: soon\nmodels: [{name: a, rate: 2}]\n", source: "c.yaml",
                                      environment: ["FLOTILLA_FLAG": "maybe"])
        let port = try #require(throws: ConfigError.self) { try reader.integer("port", default: 1) }
        #expect(port.key == "port in c.yaml")
        let wait = try #require(throws: ConfigError.self) { try reader.milliseconds("wait", default: 1) }
        #expect(wait.message.contains("duration"))
        let flag = try #require(throws: ConfigError.self) { try reader.bool("flag", default: false) }
        #expect(flag.key == "FLOTILLA_FLAG")
        let rate = try #require(throws: ConfigError.self) {
            try reader.table("models") { item in try item.double("rate", default: 0, in: 0...1) }
        }
        #expect(rate.key == "models[0].rate in c.yaml")
        let required = try #require(throws: ConfigError.self) { try reader.requiredString("tls.cert") }
        #expect(required.message.contains("FLOTILLA_TLS_CERT"))
    }

    @Test func malformedDocumentsAreRefused() throws {
        #expect(throws: ConfigError.self) { try ConfigReader(yaml: "a: [unclosed", source: "bad.yaml") }
        #expect(throws: ConfigError.self) { try ConfigReader(yaml: "- just\n- a list\n", source: "list.yaml") }
        let empty = try ConfigReader(yaml: "", source: "empty.yaml")
        #expect(try empty.integer("x", default: 7) == 7)
    }

    @Test func tableItemsRejectUnknownKeys() throws {
        let reader = try ConfigReader(yaml: "models: [{name: a, colour: red}]\n", source: "c.yaml")
        let error = try #require(throws: ConfigError.self) {
            try reader.table("models") { item in try item.string("name", default: "") }
        }
        #expect(error.key == "models[0].colour")
    }
}
