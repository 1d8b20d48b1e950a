import ArgumentParser
import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
import Foundation

/// Replicated coordinators through real processes on loopback: end-to-end jobs/s with one
/// coordinator and with three; leader `kill -9` failover (to a new leader, and to the first
/// acknowledged submission) over many kills; and leadership transfer time.
struct RaftBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft", abstract: "Failover and transfer times, and jobs/s with 3 coordinators against 1.")

    @Option(help: "Leader kills (each followed by a restart of the killed coordinator).") var kills = 100
    @Option(help: "Leadership transfers.") var transfers = 20
    @Option(help: "Zero-step jobs for each throughput case.") var jobs = 3_000
    @Option(help: "Clients submitting at once in the throughput cases.") var clients = 16

    func measure() async throws {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let directory = try TemporaryDirectory(prefix: "flotilla-bench-raft")
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.appending("pki"), cluster: "bench")
        var group = try Group(bin: bin, pki: pki, directory: directory)
        defer { group.stopAll() }

        // Jobs/s: one coordinator, then three, each with 4 workers of 8 GPUs.
        let single = try await throughputAlone(bin: bin, pki: pki, directory: directory)
        try await group.startAll()
        var leader = try await group.waitForLeader()
        for index in 1...4 { group.children.append(try group.startWorker(index: index)) }
        let admin = try await ClusterBench.connect(pki: pki, role: .admin, name: "bench-admin", port: group.ports[leader]!)
        try await ClusterBench.waitForWorkers(4, admin)
        await admin.close()
        let before = try await group.names.asyncMap { try await Self.storageFigures(httpPort: group.httpPorts[$0]!) }
        let replicated = try await throughput(port: group.ports[leader]!, httpPort: group.httpPorts[leader]!, pki: pki,
                                              coordinators: group.names.map { ($0 == leader ? "\($0) (leader)" : $0, group.running[$0]!.pid) })
        for (name, was) in zip(group.names, before) {
            let now = try await Self.storageFigures(httpPort: group.httpPorts[name]!)
            let entries = now.lastIndex - was.lastIndex, syncs = now.syncs - was.syncs
            print(String(format: "  %@%@: %.0f entries, %.0f segment syncs (%.1f entries each)", name, name == leader ? " (leader)" : "",
                         entries, syncs, syncs > 0 ? entries / syncs : 0))
        }
        print(String(format: "end to end, %d zero-step jobs from %d clients, 4 workers: 1 coordinator %.0f jobs/s, 3 coordinators %.0f jobs/s (%.0f %% of one)",
                     jobs, clients, single, replicated, 100 * replicated / single))

        // Transfers: the leader hands over to the most caught-up member.
        var transferTimes: [UInt64] = []
        for _ in 0..<transfers {
            leader = try await group.waitForLeader()
            let connection = try await ClusterBench.connect(pki: pki, role: .admin, name: "bench-admin", port: group.ports[leader]!)
            let started = ContinuousClock.now
            _ = try await connection.request(Flotilla_V1_RaftTransferLeadershipRequest(), expecting: Flotilla_V1_RaftTransferLeadershipResponse.self)
            _ = try await group.waitForLeader(excluding: leader)
            transferTimes.append(Measure.nanoseconds(ContinuousClock.now - started))
            await connection.close()
            try await Task.sleep(for: .milliseconds(300))
        }
        print("leadership transfer over \(transfers): " + Self.summary(transferTimes))

        // Kills: SIGKILL the leader; time to a new leader and to the first acknowledged submission.
        let client = try group.client()
        var toLeader: [UInt64] = []
        var toAck: [UInt64] = []
        for number in 0..<kills {
            leader = try await group.waitForLeader()
            let killed = ContinuousClock.now
            group.kill(leader)
            async let acknowledged = Self.firstAcknowledgement(client, key: "after-kill-\(number)", since: killed)
            _ = try await group.waitForLeader(excluding: leader)
            toLeader.append(Measure.nanoseconds(ContinuousClock.now - killed))
            toAck.append(try await acknowledged)
            try await group.start(leader)
            try await group.waitUntilFollowing(leader)
        }
        await client.close()
        print("leader kill -9 over \(kills): to a new leader " + Self.summary(toLeader))
        print("leader kill -9 over \(kills): to the first acknowledged submission " + Self.summary(toAck))
    }

    /// A member's last log index and segment syncs so far.
    static func storageFigures(httpPort: Int) async throws -> (lastIndex: Double, syncs: Double) {
        (try await ClusterBench.metric("flotilla_raft_last_index", httpPort: httpPort).reduce(0, +),
         try await ClusterBench.metric("flotilla_log_fsyncs", httpPort: httpPort).reduce(0, +))
    }

    static func summary(_ nanoseconds: [UInt64]) -> String {
        let sorted = nanoseconds.sorted()
        return String(format: "p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                      Measure.percentile(sorted, 0.50), Measure.percentile(sorted, 0.99), Double(sorted.last ?? 0) / 1e6)
    }

    /// Nanoseconds from `since` until a submission is acknowledged (retrying every 5 ms).
    static func firstAcknowledgement(_ client: ClusterClient, key: String, since: ContinuousClock.Instant) async throws -> UInt64 {
        let request = ClusterBench.submission(key)
        while true {
            do {
                _ = try await client.request(request, expecting: Flotilla_V1_SubmitJobResponse.self, timeout: .seconds(2))
                return Measure.nanoseconds(ContinuousClock.now - since)
            } catch {
                guard ContinuousClock.now - since < .seconds(30) else { throw error }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    private func throughputAlone(bin: URL, pki: TestPKI, directory: TemporaryDirectory) async throws -> Double {
        let port = try freeLoopbackPort()
        let httpPort = try freeLoopbackPort()
        var children = [try ClusterBench.startCoordinator(bin: bin, pki: pki, directory: directory, name: "alone", port: port, httpPort: httpPort)]
        defer { for child in children { child.signal(SIGKILL) } }
        try await children[0].waitForOutput("coordinator serving", timeout: .seconds(30))
        for index in 1...4 {
            children.append(try ClusterBench.startWorker(bin: bin, pki: pki, directory: directory, index: 100 + index, port: port))
        }
        let admin = try await ClusterBench.connect(pki: pki, role: .admin, name: "bench-admin", port: port)
        try await ClusterBench.waitForWorkers(4, admin)
        await admin.close()
        return try await throughput(port: port, httpPort: httpPort, pki: pki, coordinators: [("alone", children[0].pid)])
    }

    /// `jobs` zero-step jobs from `clients` clients at once; the rate counts until the last one
    /// ended. Prints how long a submission took to be acknowledged, and how long until all were.
    /// Also prints the CPU time each coordinator (`coordinators`: a label and a pid) spent per
    /// 1,000 jobs, to tell a machine short of cores from one waiting on its disks.
    private func throughput(port: Int, httpPort: Int, pki: TestPKI, coordinators: [(String, Int32)]) async throws -> Double {
        let clients = try await (0..<clients).asyncMap { _ in try await ClusterBench.connect(pki: pki, role: .client, name: "bench", port: port) }
        defer { for client in clients { Task { await client.close() } } }
        let finishedBefore = try await ClusterBench.finishedJobs(httpPort: httpPort)
        let cpuBefore = coordinators.map { (try? ProcessFacts.cpuSeconds($0.1)) ?? 0 }
        let start = ContinuousClock.now
        let perClient = jobs / clients.count
        let latencies = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    var took: [UInt64] = []
                    for n in 0..<perClient {
                        let sent = ContinuousClock.now
                        _ = try await client.request(ClusterBench.submission("t-\(port)-\(index)-\(n)"), expecting: Flotilla_V1_SubmitJobResponse.self)
                        took.append(Measure.nanoseconds(ContinuousClock.now - sent))
                    }
                    return took
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let submitted = ContinuousClock.now - start
        let total = UInt64(perClient * clients.count)
        while try await ClusterBench.finishedJobs(httpPort: httpPort) < finishedBefore + total {
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = ClusterBench.seconds(ContinuousClock.now - start)
        let cpu = zip(coordinators, cpuBefore).map { coordinator, before in
            String(format: "%@ %.2f s", coordinator.0, ((try? ProcessFacts.cpuSeconds(coordinator.1)) ?? before) - before)
        }
        print("  CPU time over the run (wall \(String(format: "%.2f", seconds)) s): " + cpu.joined(separator: ", "))
        print(String(format: "  coordinator at port %d: all submitted after %.2f s, all ended after %.2f s; submission acknowledged ",
                     port, ClusterBench.seconds(submitted), seconds) + Self.summary(latencies))
        return Double(total) / seconds
    }

    /// Three coordinators with their ports and data directories, restartable.
    struct Group {
        let bin: URL
        let pki: TestPKI
        let directory: TemporaryDirectory
        let names = ["c1", "c2", "c3"]
        var ports: [String: Int] = [:]
        var httpPorts: [String: Int] = [:]
        var running: [String: ChildProcess] = [:]
        var children: [ChildProcess] = []
        var starts = 0

        init(bin: URL, pki: TestPKI, directory: TemporaryDirectory) throws {
            self.bin = bin
            self.pki = pki
            self.directory = directory
            for name in names {
                ports[name] = try freeLoopbackPort()
                httpPorts[name] = try freeLoopbackPort()
            }
        }

        var addresses: [String] { names.map { "127.0.0.1:\(ports[$0]!)" } }

        mutating func start(_ name: String) async throws {
            let tls = try pki.node(.coordinator, name)
            let peers = names.map { "{name: \($0), address: \"127.0.0.1:\(ports[$0]!)\"}" }.joined(separator: ", ")
            let config = """
                name: \(name)
                cluster: bench
                listen: 127.0.0.1:\(ports[name]!)
                http_listen: 127.0.0.1:\(httpPorts[name]!)
                data_dir: \(directory.appending("data-\(name)").path)
                tls: {cert: \(tls.certificate.path), key: \(tls.privateKey.path), ca: \(tls.caCertificate.path)}
                raft: {peers: [\(peers)]}
                """
            let path = directory.appending("\(name).yaml")
            try config.write(to: path, atomically: true, encoding: .utf8)
            starts += 1
            let child = try ChildProcess(name: name, executable: bin.appendingPathComponent("flotilla-coordinator"),
                                         arguments: ["--config", path.path, "--log-level", "notice"],
                                         logURL: directory.appending("\(name)-\(starts).log"))
            children.append(child)
            running[name] = child
            try await child.waitForOutput("coordinator serving", timeout: .seconds(30))
        }

        mutating func startAll() async throws {
            for name in names { try await start(name) }
        }

        func kill(_ name: String) {
            running[name]?.signal(SIGKILL)
        }

        func readiness(_ name: String) async -> String? {
            guard running[name]?.isRunning == true,
                  let answer = try? await httpGet(port: httpPorts[name]!, path: "/readyz") else { return nil }
            return answer.body.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Polls every coordinator's /readyz until exactly one other than `excluding` leads.
        func waitForLeader(excluding: String? = nil) async throws -> String {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                var leaders: [String] = []
                for name in names where name != excluding && running[name]?.isRunning == true {
                    if await readiness(name) == "leader" { leaders.append(name) }
                }
                if leaders.count == 1 { return leaders[0] }
                try await Task.sleep(for: .milliseconds(2))
            }
            throw ValidationError("no leader within 30 s")
        }

        /// Until `name` is a caught-up follower (so the next kill leaves a full group behind).
        func waitUntilFollowing(_ name: String) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let said = await readiness(name), said.hasPrefix("follower of"), said.hasSuffix("caught up") { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw ValidationError("\(name) did not rejoin within 30 s")
        }

        func startWorker(index: Int) throws -> ChildProcess {
            let tls = try pki.node(.worker, "worker-\(index)")
            let gpus = (0..<8).map { "{index: \($0), type: H100, memory_mib: 81559}" }.joined(separator: ", ")
            let config = """
                name: worker-\(index)
                cluster: bench
                coordinators: [\(addresses.joined(separator: ", "))]
                tls: {cert: \(tls.certificate.path), key: \(tls.privateKey.path), ca: \(tls.caCertificate.path)}
                data_dir: \(directory.appending("worker-\(index)").path)
                gpu_source: config
                gpus: [\(gpus)]
                models: [{name: zero, executor: simulated, default_steps: 0}]
                """
            let path = directory.appending("worker-\(index).yaml")
            try config.write(to: path, atomically: true, encoding: .utf8)
            return try ChildProcess(name: "worker-\(index)", executable: bin.appendingPathComponent("flotilla-worker"),
                                    arguments: ["--config", path.path, "--log-level", "notice"],
                                    logURL: directory.appending("worker-\(index).log"))
        }

        func client() throws -> ClusterClient {
            let files = try pki.node(.client, "bench-probe")
            let tls = try TLSContext(
                configuration: TLSConfiguration(certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                                                trustRootsPath: files.caCertificate.path),
                mode: .client)
            return ClusterClient(endpoints: addresses.compactMap(Endpoint.init), tls: tls, local: LocalNode(identity: files.identity),
                                 backoff: Backoff(initialMilliseconds: 5, multiplier: 1.5, maximumMilliseconds: 50), connectAttempts: 30)
        }

        func stopAll() {
            for child in children { child.signal(SIGKILL) }
        }
    }
}
