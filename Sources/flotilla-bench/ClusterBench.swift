import ArgumentParser
import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import NIOConcurrencyHelpers

/// End to end through real processes: one coordinator (durable log on, the
/// default 200 ms scheduler tick) and 8 workers over mutual TLS. Prints
/// zero-step jobs/s (submit → assign → complete) with one job per request and
/// with `SubmitJobsRequest` batches, log syncs per job, submit-acknowledgement
/// latency at half the one-per-request rate, and the coordinator's memory per
/// connected worker with 1,000 worker connections.
struct ClusterBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Jobs per second, submit latency and memory per worker, end to end.")

    @Option(help: "Zero-step jobs submitted for each throughput case.") var jobs = 4_000
    @Option(help: "Specs per SubmitJobsRequest in the batched case (at most 1,000).") var batchSize = 500
    @Option(help: "Seconds of paced submissions for the latency case.") var latencySeconds: Double = 8
    @Option(help: "Worker connections for the memory and CPU case (measured at 1,000 and at this many).") var workerConnections = 10_000
    @Option(help: "Seconds the idle workers heartbeat (every 5 s each) for the log-entries case.") var livenessSeconds: Double = 15

    func measure() async throws {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let directory = try TemporaryDirectory(prefix: "flotilla-bench-cluster")
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.appending("pki"), cluster: "bench")
        var children: [ChildProcess] = []
        defer { for child in children { child.signal(SIGKILL) } }

        // Throughput and latency: coordinator + 8 workers of 8 GPUs serving a zero-step model.
        let port = try freeLoopbackPort()
        let httpPort = try freeLoopbackPort()
        let coordinator = try Self.startCoordinator(bin: bin, pki: pki, directory: directory, name: "throughput", port: port,
                                                    httpPort: httpPort)
        children.append(coordinator)
        try await coordinator.waitForOutput("coordinator serving", timeout: .seconds(30))
        for index in 1...8 {
            let worker = try Self.startWorker(bin: bin, pki: pki, directory: directory, index: index, port: port)
            children.append(worker)
        }
        let admin = try await Self.connect(pki: pki, role: .admin, name: "bench-admin", port: port)
        try await Self.waitForWorkers(8, admin)
        let clients = try await (0..<16).asyncMap { _ in try await Self.connect(pki: pki, role: .client, name: "bench", port: port) }

        var syncs = try await Self.logSyncs(httpPort: httpPort)
        let rate = try await throughput(clients: clients, httpPort: httpPort)
        var syncsNow = try await Self.logSyncs(httpPort: httpPort)
        print(String(format: "end to end, one job per request: %d zero-step jobs, 8 workers, mutual TLS, fsync'd log: %.0f jobs/s, %.3f log syncs per job",
                     jobs, rate, Double(syncsNow - syncs) / Double(jobs)))
        syncs = syncsNow
        let batched = try await batchedThroughput(clients: Array(clients.prefix(4)), httpPort: httpPort)
        syncsNow = try await Self.logSyncs(httpPort: httpPort)
        print(String(format: "end to end, batched: %d zero-step jobs in SubmitJobsRequests of %d from 4 clients: %.0f jobs/s, %.3f log syncs per job",
                     jobs, batchSize, batched, Double(syncsNow - syncs) / Double(jobs)))
        let floor = try SyncFloor.measure(in: directory.url.path)
        print(String(format: "this disk: a 300-byte append + fdatasync takes p50 %.2f ms, p99 %.2f ms (2,000 alone, before the latency case)",
                     floor.p50, floor.p99))
        let bucketsBefore = try await Self.submitBuckets(httpPort: httpPort)
        let (p50, p99, achieved) = try await latency(clients: clients, rate: rate / 2)
        let bucketsAfter = try await Self.submitBuckets(httpPort: httpPort)
        print(String(format: "submit acknowledgement at %.0f submits/s (half load): p50 %.2f ms, p99 %.2f ms", achieved, p50, p99))
        print("  inside the coordinator (flotilla_submit_seconds, request decoded to answer produced): "
              + Self.shares(bucketsBefore, bucketsAfter))
        for client in clients { await client.close() }
        await admin.close()
        for child in children { await child.stop() }
        children.removeAll()

        guard workerConnections > 0 else { return }
        // Memory: a fresh coordinator, then registered workers with directive streams,
        // measured at 1,000 and at `workerConnections`.
        let memoryPort = try freeLoopbackPort()
        let bare = try Self.startCoordinator(bin: bin, pki: pki, directory: directory, name: "memory", port: memoryPort)
        children.append(bare)
        try await bare.waitForOutput("coordinator serving", timeout: .seconds(30))
        try await Task.sleep(for: .milliseconds(500))
        let before = try Self.residentKiB(bare.pid)
        var connections: [FlotillaConnection] = []
        var streams: [Task<Void, Never>] = []
        let heartbeats = NIOLockedValueBox(0)
        var beaters: [Task<Void, Never>] = []
        let measureAt = Set([min(1_000, workerConnections), workerConnections])
        for index in 0..<workerConnections {
            let name = "mem-worker-\(index)"
            let connection = try await Self.connect(pki: pki, role: .worker, name: name, port: memoryPort)
            var register = Flotilla_V1_RegisterWorkerRequest()
            register.name = name
            register.models = ["zero"]
            register.gpus = (0..<8).map { gpu in
                var item = Flotilla_V1_Gpu()
                item.index = UInt32(gpu)
                item.type = "H100"
                return item
            }
            let response = try await connection.request(register, expecting: Flotilla_V1_RegisterWorkerResponse.self)
            var subscribe = Flotilla_V1_SubscribeDirectivesRequest()
            subscribe.workerID = response.workerID
            let stream = connection.stream(subscribe)
            streams.append(Task { do { for try await _ in stream {} } catch {} })
            beaters.append(Self.heartbeating(connection, workerID: response.workerID, counting: heartbeats))
            connections.append(connection)
            if measureAt.contains(index + 1) {
                try await Task.sleep(for: .seconds(1))
                let after = try Self.residentKiB(bare.pid)
                print(String(format: "coordinator memory: %d KiB idle, %d KiB with %d workers connected: %.1f KiB per worker connection",
                             before, after, index + 1, Double(after - before) / Double(index + 1)))
            }
        }

        // Liveness off the log, and the coordinator's CPU: every worker heartbeats every
        // 5 s from its registration on (see `heartbeating`); count the log entries and the
        // coordinator's CPU time over a window once all are connected.
        let memoryAdmin = try await Self.connect(pki: pki, role: .admin, name: "bench-admin", port: memoryPort)
        try await Task.sleep(for: .seconds(2))
        let indexBefore = try await Self.commitIndex(memoryAdmin)
        let beatsBefore = heartbeats.withLockedValue { $0 }
        let cpuBefore = try ProcessFacts.cpuSeconds(bare.pid)
        let started = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(Int64(livenessSeconds * 1_000)))
        let cpu = try ProcessFacts.cpuSeconds(bare.pid) - cpuBefore
        let entries = try await Self.commitIndex(memoryAdmin) - indexBefore
        let beats = heartbeats.withLockedValue { $0 } - beatsBefore
        let elapsed = Self.seconds(ContinuousClock.now - started)
        for beater in beaters { beater.cancel() }
        print(String(format: "liveness: %d idle workers heartbeating every 5 s, %.1f s: %d heartbeats, %d log entries (%.2f entries/s); coordinator CPU %.1f %% of one core",
                     workerConnections, elapsed, beats, entries, Double(entries) / elapsed, 100 * cpu / elapsed))
        await memoryAdmin.close()
        for stream in streams { stream.cancel() }
        for connection in connections { await connection.close() }
    }

    /// A worker's heartbeats, every 5 s until cancelled, as a real worker sends them.
    static func heartbeating(_ connection: FlotillaConnection, workerID: String,
                             counting count: NIOLockedValueBox<Int>) -> Task<Void, Never> {
        Task {
            var beat = Flotilla_V1_HeartbeatRequest()
            beat.workerID = workerID
            beat.freeGpus = 8
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                guard (try? await connection.request(beat, expecting: Flotilla_V1_HeartbeatResponse.self)) != nil else { continue }
                count.withLockedValue { $0 += 1 }
            }
        }
    }

    static func commitIndex(_ admin: FlotillaConnection) async throws -> UInt64 {
        let status = try await admin.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
        return status.coordinators.first?.commitIndex ?? 0
    }

    /// Submits `jobs` zero-step jobs from every client at once; the rate counts until the last succeeded.
    private func throughput(clients: [FlotillaConnection], httpPort: Int) async throws -> Double {
        let finishedBefore = try await Self.finishedJobs(httpPort: httpPort)
        let start = ContinuousClock.now
        let perClient = jobs / clients.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    for n in 0..<perClient {
                        _ = try await client.request(Self.submission("t-\(index)-\(n)"), expecting: Flotilla_V1_SubmitJobResponse.self)
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = UInt64(perClient * clients.count)
        while try await Self.finishedJobs(httpPort: httpPort) < finishedBefore + total {
            try await Task.sleep(for: .milliseconds(20))
        }
        return Double(total) / Self.seconds(ContinuousClock.now - start)
    }

    /// Submits `jobs` zero-step jobs in batches of `batchSize`, each client one batch at a
    /// time; the rate counts until the last of them ended.
    private func batchedThroughput(clients: [FlotillaConnection], httpPort: Int) async throws -> Double {
        let finishedBefore = try await Self.finishedJobs(httpPort: httpPort)
        let size = max(1, min(batchSize, 1_000))
        let batches = (jobs + size - 1) / size
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    for batch in stride(from: index, to: batches, by: clients.count) {
                        var request = Flotilla_V1_SubmitJobsRequest()
                        let first = batch * size
                        request.specs = (first..<min(first + size, jobs)).map { Self.submission("b-\($0)").spec }
                        let answer = try await client.request(request, expecting: Flotilla_V1_SubmitJobsResponse.self)
                        if let refused = answer.results.first(where: \.hasError) {
                            throw ValidationError("a batched job was refused: \(refused.error.message)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        while try await Self.finishedJobs(httpPort: httpPort) < finishedBefore + UInt64(jobs) {
            try await Task.sleep(for: .milliseconds(20))
        }
        return Double(jobs) / Self.seconds(ContinuousClock.now - start)
    }

    /// The coordinator's `flotilla_log_fsyncs` gauge, from its /metrics.
    static func logSyncs(httpPort: Int) async throws -> UInt64 {
        let values = try await metric("flotilla_log_fsyncs ", httpPort: httpPort)
        guard let value = values.first else { throw ValidationError("the coordinator's /metrics has no flotilla_log_fsyncs") }
        return UInt64(value)
    }

    /// Jobs ended in any state, from /metrics: cheap to poll, where ClusterStatus
    /// builds the scaling profile (every job) whenever the state has changed.
    static func finishedJobs(httpPort: Int) async throws -> UInt64 {
        UInt64(try await metric("flotilla_jobs_finished_total{", httpPort: httpPort).reduce(0, +))
    }

    /// The coordinator's `flotilla_submit_seconds` histogram: cumulative count at each bound (seconds).
    static func submitBuckets(httpPort: Int) async throws -> [(bound: String, count: Double)] {
        let (_, body) = try await httpGet(port: httpPort, path: "/metrics")
        return body.split(separator: "\n").filter { $0.hasPrefix("flotilla_submit_seconds_bucket{") }.compactMap { line in
            guard let open = line.range(of: "le=\""), let close = line[open.upperBound...].firstIndex(of: "\""),
                  let count = Double(line.split(separator: " ").last ?? "") else { return nil }
            return (String(line[open.upperBound..<close]), count)
        }
    }

    /// "n % within b" for each bound, over what happened between two readings.
    static func shares(_ before: [(bound: String, count: Double)], _ after: [(bound: String, count: Double)]) -> String {
        let total = (after.last?.count ?? 0) - (before.last?.count ?? 0)
        guard total > 0, before.count == after.count else { return "no samples" }
        return zip(before, after).filter { $0.0.bound != "+Inf" }.map { pair in
            let bound = Double(pair.0.bound).map { $0 * 1_000 } ?? 0
            return String(format: "%.1f %% ≤ %g ms", 100 * (pair.1.count - pair.0.count) / total, bound)
        }.joined(separator: ", ")
    }

    /// The values of the /metrics lines starting with `prefix`.
    static func metric(_ prefix: String, httpPort: Int) async throws -> [Double] {
        let (_, body) = try await httpGet(port: httpPort, path: "/metrics")
        return body.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// Paced submissions at `rate` per second across the clients; acknowledgement latencies in ms.
    private func latency(clients: [FlotillaConnection], rate: Double) async throws -> (Double, Double, Double) {
        let interval = Double(clients.count) / rate
        let samples = NIOLockedValueBox<[UInt64]>([])
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int64(latencySeconds * 1_000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    var next = start + .milliseconds(Int64(interval * 1_000 * Double(index) / Double(clients.count)))
                    var n = 0
                    while next < end {
                        try await Task.sleep(until: next, clock: .continuous)
                        let sent = ContinuousClock.now
                        _ = try await client.request(Self.submission("l-\(index)-\(n)"), expecting: Flotilla_V1_SubmitJobResponse.self)
                        let took = ContinuousClock.now - sent
                        samples.withLockedValue { $0.append(UInt64(Self.seconds(took) * 1e9)) }
                        n += 1
                        next = next + .milliseconds(Int64(interval * 1_000))
                    }
                }
            }
            try await group.waitForAll()
        }
        let sorted = samples.withLockedValue { $0.sorted() }
        return (Measure.percentile(sorted, 0.50), Measure.percentile(sorted, 0.99),
                Double(sorted.count) / Self.seconds(ContinuousClock.now - start))
    }

    static func submission(_ key: String) -> Flotilla_V1_SubmitJobRequest {
        var request = Flotilla_V1_SubmitJobRequest()
        request.spec.model = "zero"
        request.spec.gpuCount = 1
        request.spec.idempotencyKey = key
        return request
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func startCoordinator(bin: URL, pki: TestPKI, directory: TemporaryDirectory, name: String, port: Int,
                                 httpPort: Int? = nil) throws -> ChildProcess {
        let tls = try pki.node(.coordinator, "coordinator-1")
        let config = """
            name: coordinator-1
            cluster: bench
            listen: 127.0.0.1:\(port)
            http_listen: 127.0.0.1:\(try httpPort ?? freeLoopbackPort())
            data_dir: \(directory.appending("coordinator-\(name)").path)
            tls: {cert: \(tls.certificate.path), key: \(tls.privateKey.path), ca: \(tls.caCertificate.path)}
            """
        let path = directory.appending("coordinator-\(name).yaml")
        try config.write(to: path, atomically: true, encoding: .utf8)
        return try ChildProcess(name: "coordinator", executable: bin.appendingPathComponent("flotilla-coordinator"),
                                arguments: ["--config", path.path, "--log-level", "notice"],
                                logURL: directory.appending("coordinator-\(name).log"))
    }

    static func startWorker(bin: URL, pki: TestPKI, directory: TemporaryDirectory, index: Int, port: Int) throws -> ChildProcess {
        let tls = try pki.node(.worker, "worker-\(index)")
        let gpus = (0..<8).map { "{index: \($0), type: H100, memory_mib: 81559}" }.joined(separator: ", ")
        let config = """
            name: worker-\(index)
            cluster: bench
            coordinators: [127.0.0.1:\(port)]
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

    static func connect(pki: TestPKI, role: NodeRole, name: String, port: Int) async throws -> FlotillaConnection {
        let files = try pki.node(role, name)
        let tls = try TLSContext(
            configuration: TLSConfiguration(certificatePath: files.certificate.path, privateKeyPath: files.privateKey.path,
                                            trustRootsPath: files.caCertificate.path),
            mode: .client)
        return try await FlotillaConnection.connect(host: "127.0.0.1", port: port, tls: tls, local: LocalNode(identity: files.identity))
    }

    static func waitForWorkers(_ count: Int, _ admin: FlotillaConnection) async throws {
        for _ in 0..<600 {
            let status = try await admin.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
            if status.workersReady >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("the \(count) workers did not register within 30 s")
    }

    /// VmRSS of a process, in KiB.
    static func residentKiB(_ pid: Int32) throws -> Int { try ProcessFacts.residentKiB(pid) }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
