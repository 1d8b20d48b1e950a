import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Three (or five) coordinators replicating one log with Raft, as real processes on
/// loopback, with workers and clients that know every coordinator's address. Each
/// coordinator keeps its ports and data directory across restarts. `withCluster` kills every
/// process it started and removes the directory, whatever the test's outcome.
///
/// A coordinator may listen on another address than 127.0.0.1 (`hosts`) and start under a
/// command prefix (`launchPrefix`, e.g. `ip netns exec NS`, which execs, so the child's pid
/// stays the coordinator's): set both before starting any process.
final class RaftClusterHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let pki: TestPKI
    let names: [String]
    let ports: [String: Int]
    let httpPorts: [String: Int]
    private(set) var coordinators: [String: ChildProcess] = [:]
    private(set) var workers: [String: ChildProcess] = [:]
    private var everyChild: [ChildProcess] = []
    private var starts = 0
    /// Extra keys for every coordinator's configuration.
    var coordinatorSettings: [String: String] = [:]
    /// Where a coordinator listens (its Raft, client and HTTP ports), if not 127.0.0.1.
    var hosts: [String: String] = [:]
    /// A command a coordinator runs under, if any: the coordinator's path and arguments follow it.
    var launchPrefix: [String: [String]] = [:]
    /// Coordinators the test has cut off the network: `readiness` does not ask them (a
    /// connection to them would hang until it timed out) and reports them as down.
    var unreachable: Set<String> = []

    init(count: Int = 3) throws {
        directory = try TemporaryDirectory(prefix: "flotilla-raft")
        pki = try TestPKI(directory: directory.appending("pki"), cluster: "test")
        names = (1...count).map { "c\($0)" }
        var ports: [String: Int] = [:]
        var httpPorts: [String: Int] = [:]
        for name in names {
            ports[name] = try freeLoopbackPort()
            httpPorts[name] = try freeLoopbackPort()
        }
        self.ports = ports
        self.httpPorts = httpPorts
    }

    static func withCluster<T>(count: Int = 3, _ body: (RaftClusterHarness) async throws -> T) async throws -> T {
        let cluster = try RaftClusterHarness(count: count)
        do {
            let result = try await body(cluster)
            await cluster.shutdown()
            return result
        } catch {
            cluster.printOutputTails()
            await cluster.shutdown()
            throw error
        }
    }

    /// What each process printed last: a failed test's evidence, since the directory goes.
    func printOutputTails(lines: Int = 25) {
        for child in everyChild {
            if let keep = ProcessInfo.processInfo.environment["KEEP_LOGS"] {
                try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                try? FileManager.default.copyItem(atPath: child.logURL.path, toPath: keep + "/" + child.logURL.lastPathComponent)
            }
            let tail = child.output.split(separator: "\n").suffix(lines).joined(separator: "\n")
            print("--- \(child.name), last \(lines) lines:\n\(tail)")
        }
    }

    func shutdown() async {
        for child in everyChild { await child.stop() }
        directory.remove()
    }

    func host(_ name: String) -> String { hosts[name] ?? "127.0.0.1" }
    func address(_ name: String) -> String { "\(host(name)):\(ports[name]!)" }
    var addresses: [String] { names.map(address) }
    var endpoints: [Endpoint] { addresses.compactMap(Endpoint.init) }

    // MARK: Coordinators

    /// Starts (or restarts) one coordinator; waits until it serves (as leader or follower).
    @discardableResult
    func startCoordinator(_ name: String, timeout: Duration = .seconds(30)) async throws -> ChildProcess {
        let tls = try pki.node(.coordinator, name)
        let peers = names.map { "{name: \($0), address: \"\(address($0))\"}" }.joined(separator: ", ")
        var settings = [
            "name": name, "cluster": pki.cluster,
            "listen": address(name), "http_listen": "\(host(name)):\(httpPorts[name]!)",
            "data_dir": directory.appending("data-\(name)").path,
            "tls.cert": tls.certificate.path, "tls.key": tls.privateKey.path, "tls.ca": tls.caCertificate.path,
            "scheduler.tick": "50ms",
            "raft.peers": "[\(peers)]",
        ]
        settings.merge(coordinatorSettings) { _, new in new }
        let config = directory.appending("\(name).yaml")
        try ClusterHarness.yaml(settings).write(to: config, atomically: true, encoding: .utf8)
        starts += 1
        var command = [productURL("flotilla-coordinator").path, "--config", config.path, "--log-level", "debug"]
        if let prefix = launchPrefix[name], !prefix.isEmpty { command = prefix + command }
        let child = try ChildProcess(
            name: name, executable: URL(fileURLWithPath: command[0]), arguments: Array(command.dropFirst()),
            logURL: directory.appending("\(name)-\(starts).log"))
        everyChild.append(child)
        coordinators[name] = child
        try await child.waitForOutput("coordinator serving", timeout: timeout)
        return child
    }

    func startAll() async throws {
        for name in names { try await startCoordinator(name) }
    }

    /// SIGKILL, and wait until it is gone.
    func kill(_ name: String) async {
        await coordinators[name]?.killNow()
    }

    /// What `/readyz` says: "leader", "follower of …", or why not ready; nil if nothing answers.
    func readiness(_ name: String) async -> String? {
        guard coordinators[name]?.isRunning == true, !unreachable.contains(name),
              let answer = try? await httpGet(host: host(name), port: httpPorts[name]!, path: "/readyz") else { return nil }
        return answer.body.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The coordinators that say they lead, among those running.
    func leaders() async -> [String] {
        var found: [String] = []
        for name in names where await readiness(name) == "leader" { found.append(name) }
        return found
    }

    /// Waits until exactly one running coordinator leads (other than `excluding`) and returns it.
    func waitForLeader(excluding: String? = nil, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let leaders = await leaders()
            if leaders.count == 1, leaders[0] != excluding { return leaders[0] }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ChildProcessError("no single leader within \(timeout); readiness: \(await describeReadiness())\n\(tails())")
    }

    func describeReadiness() async -> String {
        var parts: [String] = []
        for name in names { parts.append("\(name): \(await readiness(name) ?? "down")") }
        return parts.joined(separator: "; ")
    }

    func tails(_ lines: Int = 25) -> String {
        names.compactMap { name in coordinators[name].map { "--- \(name):\n\($0.tail(lines))" } }.joined(separator: "\n")
    }

    // MARK: Workers and clients

    /// Starts a worker that knows every coordinator; waits until it registered.
    @discardableResult
    func startWorker(_ name: String, gpus: Int, models: String, extra: [String: String] = [:]) async throws -> ChildProcess {
        let tls = try pki.node(.worker, name)
        let gpuList = (0..<gpus).map { "{index: \($0), type: A100, memory_mib: 81920}" }.joined(separator: ", ")
        var settings = [
            "name": name, "cluster": pki.cluster, "coordinators": "[\(addresses.joined(separator: ", "))]",
            "tls.cert": tls.certificate.path, "tls.key": tls.privateKey.path, "tls.ca": tls.caCertificate.path,
            "data_dir": directory.appending("worker-\(name)").path,
            "checkpoint_dir": directory.appending("checkpoints").path,
            "gpu_source": "config", "gpus": "[\(gpuList)]", "models": models,
            "progress_interval": "50ms",
        ]
        settings.merge(extra) { _, new in new }
        let config = directory.appending("worker-\(name).yaml")
        try ClusterHarness.yaml(settings).write(to: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            name: name, executable: productURL("flotilla-worker"),
            arguments: ["--config", config.path, "--log-level", "debug"],
            logURL: directory.appending("worker-\(name)-\(everyChild.count).log"))
        everyChild.append(child)
        workers[name] = child
        try await child.waitForOutput("registered", timeout: .seconds(30))
        return child
    }

    /// A client of the whole group under ROLE/NAME's certificate: it follows NOT_LEADER.
    func client(_ role: NodeRole = .admin, _ name: String = "operator",
                configuration: TransportConfiguration = .init()) throws -> ClusterClient {
        let files = try pki.node(role, name)
        let tls = try TLSContext(
            configuration: TLSConfiguration(certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                                            trustRootsPath: files.caCertificate.path),
            mode: .client)
        return ClusterClient(endpoints: endpoints, tls: tls, local: LocalNode(identity: files.identity),
                             configuration: configuration, backoff: Backoff(), connectAttempts: 20)
    }

    /// A connection to one coordinator, whichever role it has.
    func connect(to coordinator: String, _ role: NodeRole = .admin, _ name: String = "operator") async throws -> FlotillaConnection {
        let files = try pki.node(role, name)
        let tls = try TLSContext(
            configuration: TLSConfiguration(certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                                            trustRootsPath: files.caCertificate.path),
            mode: .client)
        return try await FlotillaConnection.connect(host: host(coordinator), port: ports[coordinator]!, tls: tls,
                                                    local: LocalNode(identity: files.identity))
    }
}
