import FlotillaConfig
import FlotillaPKI
import FlotillaProto
import FlotillaTransport
import Foundation

/// Everything `flotilla-worker` reads from its YAML file. Every key can be
/// overridden by `FLOTILLA_<KEY>` (dots as underscores), e.g. `FLOTILLA_COORDINATORS`.
///
///     name: worker-1                 # required; must equal the certificate's name
///     cluster: flotilla              # must equal the certificate's cluster
///     region: ""                     # empty: the coordinator's region
///     coordinators: [h:7400, h:7400] # required; any of them, the worker follows the leader
///     tls: {cert: PATH, key: PATH, ca: PATH}    # required
///     data_dir: ./flotilla-worker-data
///     checkpoint_dir: <data_dir>/checkpoints    # shared by the workers that may resume each other's jobs
///     gpu_source: auto               # auto (nvidia-smi when it lists GPUs, else gpus) | nvidia-smi | config
///     gpus: [{index: 0, type: A100-80G, memory_mib: 81920, uuid: GPU-...}]
///     labels: {zone: a}
///     stop_grace: 10s                # SIGTERM → SIGKILL for a cancelled process job
///     drain_grace: 30s               # on SIGTERM: time to checkpoint and report before exiting
///     progress_interval: 500ms       # at most one ProgressReport per attempt this often
///     seed: 42                       # optional: makes simulated failures repeatable
///     drills: {allow: false}         # true: obey failover drills' faults (flotillactl drill)
///     models:
///       - {name: sdxl, executor: simulated, default_steps: 100, checkpoint_every: 10,
///          step_duration: 100ms, failure_rate: 0}
///       - {name: llm, executor: process, command: [cluster-configs/jobs/stepper.sh], env: {K: V}}
public struct WorkerConfiguration: Sendable {
    public enum GPUSource: String, Sendable, CaseIterable {
        case auto
        case nvidiaSMI = "nvidia-smi"
        case config
    }

    public var name: String
    public var cluster = "flotilla"
    public var region = ""
    public var coordinators: [Endpoint]
    public var certificatePath: String
    public var privateKeyPath: String
    public var trustRootsPath: String
    public var dataDirectory = "./flotilla-worker-data"
    public var checkpointDirectory: String
    public var gpuSource = GPUSource.auto
    public var gpus: [Flotilla_V1_Gpu] = []
    public var labels: [String: String] = [:]
    public var stopGrace = Duration.seconds(10)
    public var drainGrace = Duration.seconds(30)
    public var progressInterval = Duration.milliseconds(500)
    public var seed: UInt64?
    /// Obey drill faults (kill, freeze, slow, damage a checkpoint) from the coordinator.
    public var allowsDrills = false
    public var models: [ModelConfiguration] = []
    /// What reading found suspicious but not wrong (unknown `FLOTILLA_*` variables), logged at start.
    public var warnings: [String] = []

    /// A configuration built in code (tests, embedding).
    public init(name: String, coordinators: [Endpoint], certificatePath: String, privateKeyPath: String,
                trustRootsPath: String, checkpointDirectory: String, models: [ModelConfiguration]) {
        self.name = name
        self.coordinators = coordinators
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.trustRootsPath = trustRootsPath
        self.checkpointDirectory = checkpointDirectory
        self.models = models
    }

    /// Reads every key, then rejects keys nobody read. `coordinators` and `name`
    /// given on the command line win over the file and the environment.
    public init(reader: ConfigReader, coordinators overrideCoordinators: [Endpoint]? = nil,
                name overrideName: String? = nil) throws {
        let configuredName = try reader.string("name", default: "")
        name = overrideName ?? configuredName
        if name.isEmpty { _ = try reader.requiredString("name") }
        guard NodeIdentity.isValidComponent(name) else {
            throw ConfigError(key: "name", "\"\(name)\" is not a valid node name (letters, digits, '-', '_', '.')")
        }
        cluster = try reader.string("cluster", default: cluster)
        region = try reader.string("region", default: region)
        if let overrideCoordinators {
            _ = try reader.strings("coordinators")
            coordinators = overrideCoordinators
        } else {
            coordinators = try Self.endpoints(reader, "coordinators")
        }
        certificatePath = try reader.requiredString("tls.cert")
        privateKeyPath = try reader.requiredString("tls.key")
        trustRootsPath = try reader.requiredString("tls.ca")
        dataDirectory = try reader.string("data_dir", default: dataDirectory)
        checkpointDirectory = try reader.string(
            "checkpoint_dir", default: URL(fileURLWithPath: dataDirectory).appendingPathComponent("checkpoints").path)
        let source = try reader.string("gpu_source", default: GPUSource.auto.rawValue)
        guard let gpuSource = GPUSource(rawValue: source) else {
            throw ConfigError(key: "gpu_source", "expected auto, nvidia-smi or config, got \"\(source)\"")
        }
        self.gpuSource = gpuSource
        gpus = try Self.gpus(reader)
        labels = try reader.stringMap("labels")
        stopGrace = .milliseconds(Int64(clamping: try reader.milliseconds("stop_grace", default: 10_000)))
        drainGrace = .milliseconds(Int64(clamping: try reader.milliseconds("drain_grace", default: 30_000)))
        progressInterval = .milliseconds(Int64(clamping: try reader.milliseconds("progress_interval", default: 500)))
        let seed = try reader.integer("seed", default: -1, in: -1...Int.max)
        self.seed = seed < 0 ? nil : UInt64(seed)
        models = try Self.models(reader)
        allowsDrills = try reader.bool("drills.allow", default: false)
        try reader.finish()
        warnings = reader.environmentWarnings
    }

    private static func endpoints(_ reader: ConfigReader, _ key: String) throws -> [Endpoint] {
        let texts = try reader.strings(key)
        guard !texts.isEmpty else {
            throw ConfigError(key: key, "is required: one or more host:port (set it in the file or \(reader.environmentName(for: key)))")
        }
        return try texts.map { text in
            guard let endpoint = Endpoint(text) else { throw ConfigError(key: key, "expected host:port, got \"\(text)\"") }
            return endpoint
        }
    }

    private static func gpus(_ reader: ConfigReader) throws -> [Flotilla_V1_Gpu] {
        var index = 0
        let gpus = try reader.table("gpus") { item in
            defer { index += 1 }
            var gpu = Flotilla_V1_Gpu()
            gpu.index = UInt32(try item.integer("index", default: index, in: 0...Int(UInt32.max)))
            gpu.type = try item.string("type", default: "")
            guard !gpu.type.isEmpty else { throw ConfigError(key: "gpus[\(index)].type", "is required (e.g. A100-80G)") }
            gpu.memoryMib = UInt64(try item.integer("memory_mib", default: 0))
            gpu.uuid = try item.string("uuid", default: "")
            return gpu
        }
        if let duplicate = Dictionary(grouping: gpus, by: \.index).first(where: { $0.value.count > 1 })?.key {
            throw ConfigError(key: "gpus", "GPU index \(duplicate) is listed twice")
        }
        return gpus
    }

    private static func models(_ reader: ConfigReader) throws -> [ModelConfiguration] {
        var index = 0
        let models = try reader.table("models") { item in
            defer { index += 1 }
            return try ModelConfiguration(reader: item, key: "models[\(index)]")
        }
        guard !models.isEmpty else { throw ConfigError(key: "models", "is required: at least one model to serve") }
        if let duplicate = Dictionary(grouping: models, by: \.name).first(where: { $0.value.count > 1 })?.key {
            throw ConfigError(key: "models", "model \(duplicate) is listed twice")
        }
        return models
    }

    /// The certificate must name this worker: its role, name and cluster. Checked at
    /// start so that a mismatch is a configuration error, not an endless PERMISSION_DENIED.
    public func checkCertificate() throws {
        let identity: NodeIdentity?
        do {
            identity = try CertificateInfo(contentsOf: URL(fileURLWithPath: certificatePath)).identity
        } catch {
            throw ConfigError(key: "tls.cert", "cannot read \(certificatePath): \(error)")
        }
        guard let identity else {
            throw ConfigError(key: "tls.cert", "\(certificatePath) carries no Flotilla identity (flotilla://CLUSTER/worker/NAME)")
        }
        guard identity.role == .worker else {
            throw ConfigError(key: "tls.cert", "\(certificatePath) is a \(identity.role.rawValue) certificate, not a worker's")
        }
        guard identity.name == name else {
            throw ConfigError(key: "name", "\"\(name)\" differs from the certificate's name \"\(identity.name)\" (\(certificatePath))")
        }
        guard identity.cluster == cluster else {
            throw ConfigError(key: "cluster", "\"\(cluster)\" differs from the certificate's cluster \"\(identity.cluster)\" (\(certificatePath))")
        }
    }

    /// The identity this worker claims in Hello.
    public var identity: NodeIdentity {
        NodeIdentity(cluster: cluster, role: .worker, name: name, region: region.isEmpty ? nil : region)
    }
}
