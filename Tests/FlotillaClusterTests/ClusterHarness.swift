import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A cluster of real processes on loopback for one test: certificates, a
/// coordinator (restartable on the same port and data directory), workers,
/// and clients speaking the protocol. `withCluster` kills every process it
/// started and removes the directory, whatever the test's outcome.
final class ClusterHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let pki: TestPKI
    let coordinatorPort: Int
    let httpPort: Int
    /// Shared by every worker, so a job can resume on another worker from a checkpoint.
    var checkpointDirectory: URL { directory.appending("checkpoints") }
    private(set) var coordinator: ChildProcess?
    private(set) var workers: [String: ChildProcess] = [:]
    private var everyChild: [ChildProcess] = []
    private var coordinatorStarts = 0
    /// Extra keys for the coordinator's configuration (shortened timers).
    var coordinatorSettings: [String: String] = [:]
    /// The coordinator's certificate; nil: a valid one for coordinator-1.
    var coordinatorTLS: NodeTLSFiles?

    init() throws {
        directory = try TemporaryDirectory(prefix: "flotilla-cluster")
        pki = try TestPKI(directory: directory.appending("pki"), cluster: "test")
        coordinatorPort = try freeLoopbackPort()
        httpPort = try freeLoopbackPort()
    }

    static func withCluster<T>(_ body: (ClusterHarness) async throws -> T) async throws -> T {
        let cluster = try ClusterHarness()
        do {
            let result = try await body(cluster)
            await cluster.shutdown()
            return result
        } catch {
            await cluster.shutdown()
            throw error
        }
    }

    func shutdown() async {
        for child in everyChild { await child.stop() }
        directory.remove()
    }

    var coordinatorAddress: String { "127.0.0.1:\(coordinatorPort)" }
    var coordinatorDataDirectory: URL { directory.appending("coordinator") }

    // MARK: Coordinator

    /// Starts (or restarts) the coordinator and waits until it serves.
    @discardableResult
    func startCoordinator(timeout: Duration = .seconds(30), waitUntilServing: Bool = true) async throws -> ChildProcess {
        let tls = try coordinatorTLS ?? pki.node(.coordinator, "coordinator-1")
        var settings = [
            "name": "coordinator-1", "cluster": pki.cluster,
            "listen": coordinatorAddress, "http_listen": "127.0.0.1:\(httpPort)",
            "data_dir": coordinatorDataDirectory.path,
            "tls.cert": tls.certificate.path, "tls.key": tls.privateKey.path, "tls.ca": tls.caCertificate.path,
            "scheduler.tick": "50ms",
        ]
        settings.merge(coordinatorSettings) { _, new in new }
        let config = directory.appending("coordinator.yaml")
        try Self.yaml(settings).write(to: config, atomically: true, encoding: .utf8)
        coordinatorStarts += 1
        let child = try ChildProcess(
            name: "coordinator", executable: productURL("flotilla-coordinator"),
            arguments: ["--config", config.path, "--log-level", "debug"],
            logURL: directory.appending("coordinator-\(coordinatorStarts).log"))
        everyChild.append(child)
        coordinator = child
        if waitUntilServing { try await child.waitForOutput("coordinator serving", timeout: timeout) }
        return child
    }

    /// Writes flat dotted keys as nested YAML (values quoted).
    static func yaml(_ settings: [String: String]) -> String {
        var tree: [String: Any] = [:]
        for (key, value) in settings {
            let parts = key.split(separator: ".").map(String.init)
            insert(&tree, parts[...], value)
        }
        return render(tree, indent: "")
    }

    private static func insert(_ tree: inout [String: Any], _ path: ArraySlice<String>, _ value: String) {
        guard let head = path.first else { return }
        if path.count == 1 { tree[head] = value; return }
        var child = tree[head] as? [String: Any] ?? [:]
        insert(&child, path.dropFirst(), value)
        tree[head] = child
    }

    private static func render(_ tree: [String: Any], indent: String) -> String {
        tree.keys.sorted().map { key in
            if let nested = tree[key] as? [String: Any] {
                return "\(indent)\(key):\n" + render(nested, indent: indent + "  ")
            }
            let value = tree[key] as! String
            let raw = value.hasPrefix("[") || value.hasPrefix("{") || value.hasPrefix("|")
            return "\(indent)\(key): \(raw ? value : "\"\(value)\"")\n"
        }.joined()
    }

    // MARK: Workers

    /// Starts `flotilla-worker` with simulated (or process) models; waits until it registered.
    @discardableResult
    func startWorker(_ name: String, gpus: Int, gpuType: String = "A100", models: String,
                     extra: [String: String] = [:], waitForRegistration: Bool = true) async throws -> ChildProcess {
        let tls = try pki.node(.worker, name)
        let gpuList = (0..<gpus).map { "{index: \($0), type: \(gpuType), memory_mib: 81920}" }.joined(separator: ", ")
        var settings = [
            "name": name, "cluster": pki.cluster, "coordinators": "[\(coordinatorAddress)]",
            "tls.cert": tls.certificate.path, "tls.key": tls.privateKey.path, "tls.ca": tls.caCertificate.path,
            "data_dir": directory.appending("worker-\(name)").path,
            "checkpoint_dir": checkpointDirectory.path,
            "gpu_source": "config", "gpus": "[\(gpuList)]", "models": models,
            "progress_interval": "50ms",
        ]
        settings.merge(extra) { _, new in new }
        let config = directory.appending("worker-\(name).yaml")
        try Self.yaml(settings).write(to: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            name: name, executable: productURL("flotilla-worker"),
            arguments: ["--config", config.path, "--log-level", "debug"],
            logURL: directory.appending("worker-\(name)-\(everyChild.count).log"))
        everyChild.append(child)
        workers[name] = child
        if waitForRegistration { try await child.waitForOutput("registered", timeout: .seconds(30)) }
        return child
    }

    // MARK: Clients

    /// A connection under ROLE/NAME's certificate; `tenant` binds a client's to that tenant.
    func connect(_ role: NodeRole, _ name: String, tenant: String? = nil) async throws -> FlotillaConnection {
        let files = try pki.node(role, name, tenant: tenant)
        let tls = try TLSContext(
            configuration: TLSConfiguration(certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                                            trustRootsPath: files.caCertificate.path),
            mode: .client)
        return try await FlotillaConnection.connect(host: "127.0.0.1", port: coordinatorPort, tls: tls,
                                                    local: LocalNode(identity: files.identity))
    }

    func admin() async throws -> FlotillaConnection { try await connect(.admin, "operator") }

    func job(_ id: String, via connection: FlotillaConnection) async throws -> Flotilla_V1_Job {
        var request = Flotilla_V1_GetJobRequest()
        request.jobID = id
        return try await connection.request(request, expecting: Flotilla_V1_GetJobResponse.self).job
    }

    /// Polls until the job satisfies `condition`; throws with the job and the logs if it does not in time.
    @discardableResult
    func waitForJob(_ id: String, via connection: FlotillaConnection, timeout: Duration = .seconds(60),
                    _ what: String, until condition: (Flotilla_V1_Job) -> Bool) async throws -> Flotilla_V1_Job {
        let deadline = ContinuousClock.now + timeout
        var last = try await job(id, via: connection)
        while !condition(last) {
            if ContinuousClock.now >= deadline {
                throw ChildProcessError("job \(id) did not reach \"\(what)\" within \(timeout); it is \(last.state) at step \(last.step), attempts \(last.attempts.map { "\($0.number)@\($0.workerID):\($0.state)" })\n--- coordinator:\n\(coordinator?.tail(40) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(50))
            last = try await job(id, via: connection)
        }
        return last
    }

    func submit(_ spec: Flotilla_V1_JobSpec, via connection: FlotillaConnection) async throws -> Flotilla_V1_SubmitJobResponse {
        var request = Flotilla_V1_SubmitJobRequest()
        request.spec = spec
        return try await connection.request(request, expecting: Flotilla_V1_SubmitJobResponse.self)
    }

    static func spec(model: String, gpus: UInt32 = 1, steps: UInt64 = 0, key: String = "",
                     params: [String: String] = [:]) -> Flotilla_V1_JobSpec {
        var spec = Flotilla_V1_JobSpec()
        spec.model = model
        spec.gpuCount = gpus
        spec.steps = steps
        spec.idempotencyKey = key
        spec.params = params
        spec.tier = .standard
        return spec
    }
}
