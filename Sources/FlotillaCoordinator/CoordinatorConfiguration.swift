import FlotillaConfig
import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import FlotillaTransport

/// Everything `flotilla-coordinator` reads from its YAML file (every key
/// overridable by `FLOTILLA_<KEY>`; see cluster-configs/coordinator.yaml).
public struct CoordinatorConfiguration: Sendable {
    public var name = "coordinator-1"
    public var cluster = "flotilla"
    public var region = ""
    /// Where the protocol (mutual TLS) is served.
    public var listen = Endpoint(host: "127.0.0.1", port: 7400)
    /// Where /metrics, /healthz and /readyz are served (plain HTTP).
    public var httpListen = Endpoint(host: "127.0.0.1", port: 9400)
    public var dataDirectory = "./flotilla-data/coordinator"
    public var certificatePath = ""
    public var privateKeyPath = ""
    public var trustRootsPath = ""
    public var health = HealthPolicy()
    /// How often the leader plans (health marks, stalls, placement).
    public var schedulerTickMs: UInt64 = 200
    /// A snapshot after this many applied entries bounds restart time and disk.
    public var snapshotEvery: UInt64 = 10_000
    public var segmentSize = 64 << 20
    public var scheduler = SchedulerPolicy()
    public var breakers = BreakerPolicy()
    /// `retention.*`: when finished jobs are removed.
    public var retention = RetentionPolicy()
    /// Quotas the coordinator sets at start (`flotillactl tenants set` changes them at run time).
    public var tenants: [Flotilla_V1_TenantQuota] = []
    /// Budgets of the protocol port (PROTOCOL.md §7.1) and of the plain-HTTP port.
    public var transport = TransportConfiguration()
    public var http = HTTPLimits()
    /// `drills.enabled`: operators may run failover drills (flotillactl drill). Off by default.
    public var drillsEnabled = false
    /// `raft.*`: the coordinators that replicate this region's log (one: none).
    public var raft = RaftSettings()
    /// What reading found suspicious but not wrong (unknown `FLOTILLA_*` variables), logged at start.
    public var warnings: [String] = []

    public init() {}

    /// Reads every key, then rejects keys nobody read.
    public init(reader: ConfigReader) throws {
        name = try reader.string("name", default: name)
        cluster = try reader.string("cluster", default: cluster)
        region = try reader.string("region", default: region)
        listen = try Self.endpoint(reader, "listen", default: listen)
        httpListen = try Self.endpoint(reader, "http_listen", default: httpListen)
        dataDirectory = try reader.string("data_dir", default: dataDirectory)
        certificatePath = try reader.requiredString("tls.cert")
        privateKeyPath = try reader.requiredString("tls.key")
        trustRootsPath = try reader.requiredString("tls.ca")

        let interval = try reader.milliseconds("health.heartbeat_interval", default: 5_000, minimum: 10)
        let missed = try reader.integer("health.missed_heartbeats", default: 2, in: 1...100)
        let timeout = try reader.milliseconds("health.heartbeat_timeout", default: 15_000, minimum: 10)
        guard timeout > interval else {
            throw ConfigError(key: "health.heartbeat_timeout",
                              "must be longer than health.heartbeat_interval (\(timeout) ms <= \(interval) ms)")
        }
        let stall = try reader.milliseconds("health.stall_timeout", default: 60_000, minimum: 10)
        let grace = try reader.milliseconds("health.restart_grace", default: timeout)
        let checkpointGrace = try reader.milliseconds("health.checkpoint_grace", default: 15_000, minimum: 1)
        health = HealthPolicy(heartbeatIntervalMs: interval, missedHeartbeatsBeforeSuspect: UInt64(missed),
                              heartbeatTimeoutMs: timeout, stallTimeoutMs: stall, restartGraceMs: grace,
                              checkpointGraceMs: UInt32(clamping: checkpointGrace))
        schedulerTickMs = try reader.milliseconds("scheduler.tick", default: schedulerTickMs, minimum: 1)
        snapshotEvery = UInt64(try reader.integer("log.snapshot_every", default: Int(snapshotEvery), in: 10...100_000_000))
        // The spelling for a replicated group; either key sets the same schedule.
        snapshotEvery = UInt64(try reader.integer("raft.snapshot_every", default: Int(snapshotEvery), in: 10...100_000_000))
        segmentSize = try reader.integer("log.segment_bytes", default: segmentSize, in: (1 << 16)...(1 << 30))
        scheduler = try Self.schedulerPolicy(reader)
        breakers = try Self.breakerPolicy(reader)
        tenants = try Self.tenants(reader)
        retention = RetentionPolicy(
            jobTTLMs: try reader.milliseconds("retention.job_ttl", default: retention.jobTTLMs),
            maxTerminalJobs: UInt64(try reader.integer(
                "retention.max_terminal_jobs", default: Int(retention.maxTerminalJobs), in: 0...100_000_000)),
            everyMs: retention.everyMs)
        transport = try Self.transport(reader)
        http = HTTPLimits(
            maxConnections: try reader.integer("http.max_connections", default: http.maxConnections, in: 1...10_000),
            idleTimeout: .milliseconds(Int64(try reader.milliseconds(
                "http.idle_timeout", default: UInt64(http.idleTimeout.nanoseconds / 1_000_000), minimum: 100))))
        drillsEnabled = try reader.bool("drills.enabled", default: drillsEnabled)
        raft = try Self.raft(reader, name: name)
        try reader.finish()
        warnings = reader.environmentWarnings
    }

    static func endpoint(_ reader: ConfigReader, _ key: String, default value: Endpoint) throws -> Endpoint {
        let text = try reader.string(key, default: value.description)
        // Port 0 (any free port) is fine for a listener.
        if text.hasSuffix(":0"), let any = Endpoint(String(text.dropLast()) + "1") {
            return Endpoint(host: any.host, port: 0)
        }
        guard let endpoint = Endpoint(text) else {
            throw ConfigError(key: key, "expected host:port, got \"\(text)\"")
        }
        return endpoint
    }
}
