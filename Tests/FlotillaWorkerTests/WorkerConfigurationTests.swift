import FlotillaConfig
@testable import FlotillaWorker
import Foundation
import Testing

@Suite struct WorkerConfigurationTests {
    static let valid = """
        name: worker-1
        cluster: local
        coordinators: [127.0.0.1:7400, "10.0.0.2:7400"]
        tls: {cert: /pki/cert.pem, key: /pki/key.pem, ca: /pki/ca.pem}
        data_dir: /var/flotilla
        gpu_source: config
        gpus:
          - {index: 0, type: A100-80G, memory_mib: 81920, uuid: GPU-1}
          - {index: 1, type: A100-80G, memory_mib: 81920}
        labels: {zone: a}
        stop_grace: 2s
        progress_interval: 250ms
        seed: 7
        models:
          - {name: sdxl, executor: simulated, step_duration: 20ms, checkpoint_every: 5, default_steps: 30, failure_rate: 0.25}
          - name: llm
            executor: process
            command: [cluster-configs/jobs/stepper.sh, --fast]
            env: {MODEL_HOME: /models}
        """

    func load(_ yaml: String, environment: [String: String] = [:]) throws -> WorkerConfiguration {
        try WorkerConfiguration(reader: try ConfigReader(yaml: yaml, source: "worker.yaml", environment: environment))
    }

    @Test func readsEveryKey() throws {
        let configuration = try load(Self.valid)
        #expect(configuration.name == "worker-1")
        #expect(configuration.cluster == "local")
        #expect(configuration.coordinators.map(\.description) == ["127.0.0.1:7400", "10.0.0.2:7400"])
        #expect(configuration.certificatePath == "/pki/cert.pem")
        #expect(configuration.checkpointDirectory == "/var/flotilla/checkpoints")
        #expect(configuration.gpuSource == .config)
        #expect(configuration.gpus.map(\.index) == [0, 1])
        #expect(configuration.gpus[0].uuid == "GPU-1" && configuration.gpus[1].memoryMib == 81920)
        #expect(configuration.labels == ["zone": "a"])
        #expect(configuration.stopGrace == .seconds(2))
        #expect(configuration.drainGrace == .seconds(30))
        #expect(configuration.progressInterval == .milliseconds(250))
        #expect(configuration.seed == 7)
        #expect(configuration.models.count == 2)
        #expect(configuration.models[0] == ModelConfiguration(
            name: "sdxl", executor: .simulated(stepDuration: .milliseconds(20), failureRate: 0.25), defaultSteps: 30, checkpointEvery: 5))
        #expect(configuration.models[1].executor == .process(
            command: ["cluster-configs/jobs/stepper.sh", "--fast"], environment: ["MODEL_HOME": "/models"]))
        #expect(configuration.models[1].defaultSteps == 100 && configuration.models[1].checkpointEvery == 10)
    }

    @Test func anUnknownKeyIsNamed() {
        let error = #expect(throws: ConfigError.self) { try load(Self.valid + "\nheartbeat: 5s\n") }
        #expect(error?.key == "heartbeat")
    }

    @Test func anUnknownModelKeyIsNamedWithItsPlace() {
        let yaml = Self.valid.replacingOccurrences(of: "failure_rate: 0.25}", with: "failure_rate: 0.25, colour: red}")
        let error = #expect(throws: ConfigError.self) { try load(yaml) }
        #expect(error?.key == "models[0].colour")
    }

    @Test func aFailureRateOutsideZeroToOneIsNamed() {
        let yaml = Self.valid.replacingOccurrences(of: "failure_rate: 0.25", with: "failure_rate: 1.5")
        let error = #expect(throws: ConfigError.self) { try load(yaml) }
        #expect(error?.key.hasPrefix("models[0].failure_rate") == true)
        #expect(error?.description.contains("out of range") == true)
    }

    @Test func aProcessModelNeedsACommand() {
        let yaml = Self.valid.replacingOccurrences(of: "    command: [cluster-configs/jobs/stepper.sh, --fast]\n", with: "")
        let error = #expect(throws: ConfigError.self) { try load(yaml) }
        #expect(error?.key == "models[1].command")
    }

    @Test func requiredKeysAreNamed() {
        let noCoordinators = Self.valid.replacingOccurrences(of: "coordinators: [127.0.0.1:7400, \"10.0.0.2:7400\"]\n", with: "")
        #expect((#expect(throws: ConfigError.self) { try load(noCoordinators) })?.key == "coordinators")
        let noName = Self.valid.replacingOccurrences(of: "name: worker-1\n", with: "")
        #expect((#expect(throws: ConfigError.self) { try load(noName) })?.key == "name")
        let badSource = Self.valid.replacingOccurrences(of: "gpu_source: config", with: "gpu_source: magic")
        #expect((#expect(throws: ConfigError.self) { try load(badSource) })?.key == "gpu_source")
    }

    @Test func theEnvironmentOverridesTheFile() throws {
        let configuration = try load(Self.valid, environment: [
            "FLOTILLA_COORDINATORS": "a:1,b:2", "FLOTILLA_TLS_CERT": "/other/cert.pem", "FLOTILLA_DRAIN_GRACE": "5s",
            "FLOTILLA_CHECKPOINT_DIR": "/shared/ckpt",
        ])
        #expect(configuration.coordinators.map(\.description) == ["a:1", "b:2"])
        #expect(configuration.certificatePath == "/other/cert.pem")
        #expect(configuration.drainGrace == .seconds(5))
        #expect(configuration.checkpointDirectory == "/shared/ckpt")
    }

    @Test func aBadEnvironmentValueNamesTheVariable() {
        let error = #expect(throws: ConfigError.self) {
            try load(Self.valid, environment: ["FLOTILLA_PROGRESS_INTERVAL": "soon"])
        }
        #expect(error?.key == "FLOTILLA_PROGRESS_INTERVAL")
    }

    @Test func commandLineFlagsWin() throws {
        let configuration = try WorkerConfiguration(
            reader: try ConfigReader(yaml: Self.valid, environment: ["FLOTILLA_NAME": "from-env"]),
            coordinators: [.init(host: "c", port: 9)], name: "from-flag")
        #expect(configuration.name == "from-flag")
        #expect(configuration.coordinators.map(\.description) == ["c:9"])
    }
}
