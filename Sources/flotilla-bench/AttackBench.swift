import ArgumentParser
import FlotillaPKI
import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import FlotillaWire
import Foundation
import NIOCore

/// The probes that found the unbounded-memory defects, run against a real coordinator:
/// prints its RSS growth over idle and a bystander's worst latency during each.
/// (The hostile-peer test asserts bounds; this prints the figures.)
struct AttackBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attacks", abstract: "Coordinator memory and a bystander's latency under hostile peers.")

    func measure() async throws {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let directory = try TemporaryDirectory(prefix: "flotilla-bench-attacks")
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.appending("pki"), cluster: "bench")
        let port = try freeLoopbackPort()
        let coordinator = try ClusterBench.startCoordinator(bin: bin, pki: pki, directory: directory, name: "attacks", port: port)
        defer { coordinator.signal(SIGKILL) }
        try await coordinator.waitForOutput("coordinator serving", timeout: .seconds(30))
        // A registered worker, so that submissions are accepted (all but one stay queued).
        let worker = try await ClusterBench.connect(pki: pki, role: .worker, name: "w1", port: port)
        var register = Flotilla_V1_RegisterWorkerRequest()
        register.name = "w1"
        register.models = ["zero"]
        register.gpus = [Flotilla_V1_Gpu.with { $0.index = 0; $0.type = "H100" }]
        _ = try await worker.request(register, expecting: Flotilla_V1_RegisterWorkerResponse.self)
        let bystander = try await ClusterBench.connect(pki: pki, role: .admin, name: "bystander", port: port)
        for index in 0..<150 {
            var submit = ClusterBench.submission("a\(index)")
            submit.spec.params = ["prompt": String(repeating: "p", count: 200)]
            _ = try await bystander.request(submit, expecting: Flotilla_V1_SubmitJobResponse.self)
        }
        var list = Flotilla_V1_ListJobsRequest()
        list.limit = 150
        let listBytes: [UInt8] = try list.serializedBytes()
        let idle = try ClusterBench.residentKiB(coordinator.pid)
        print("attacks: coordinator idle at \(idle / 1024) MiB with 150 queued jobs")

        try await attack("8 connections x 8 LZ4 frames expanding to 16 MiB of packed enums", coordinator, idle, bystander) {
            let frame = RawFrames.amplifyingListJobs(count: (16 << 20) - 8, correlationID: 7)
            for index in 0..<8 {
                let connection = try await ClusterBench.connect(pki: pki, role: .client, name: "amp-\(index)", port: port)
                for _ in 0..<8 { try? await RawFrames.send(frame, on: connection) }
            }
        }
        try await attack("a client sending 20,000 ListJobs and never reading", coordinator, idle, bystander) {
            let deaf = try await ClusterBench.connect(pki: pki, role: .client, name: "deaf", port: port)
            try await deaf.channel.setOption(ChannelOptions.autoRead, value: false).get()
            let burst = (1...2_000).flatMap { RawFrames.frame(kind: .listJobsRequest, correlationID: UInt64($0), payload: listBytes) }
            Task { for _ in 0..<10 { try? await RawFrames.send(burst, on: deaf) } }
            try await Task.sleep(for: .seconds(2))
        }
        try await attack("300 one-way ListJobs", coordinator, idle, bystander) {
            let loud = try await ClusterBench.connect(pki: pki, role: .client, name: "loud", port: port)
            try await RawFrames.send((0..<300).flatMap { _ in
                RawFrames.frame(kind: .listJobsRequest, correlationID: 0, payload: listBytes)
            }, on: loud)
        }
        try await attack("40 connections holding 1 MiB - 1 of a declared 1 MiB SubmitJob", coordinator, idle, bystander) {
            for index in 0..<40 {
                let connection = try await ClusterBench.connect(pki: pki, role: .client, name: "holder-\(index)", port: port)
                let partial = RawFrames.header(length: 1 << 20, flags: 0, kind: MessageKind.submitJobRequest.rawValue, correlationID: 1)
                    + [UInt8](repeating: 0x0a, count: (1 << 20) - 1)
                try? await RawFrames.send(partial, on: connection)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Runs `body` while a bystander lists one job every 20 ms; prints peak RSS growth and latency.
    private func attack(_ name: String, _ coordinator: ChildProcess, _ idle: Int, _ bystander: FlotillaConnection,
                        _ body: () async throws -> Void) async throws {
        var one = Flotilla_V1_ListJobsRequest()
        one.limit = 1
        let probing = Task {
            var slowest = Duration.zero
            var peak = 0
            while !Task.isCancelled {
                let sent = ContinuousClock.now
                _ = try? await bystander.request(one, expecting: Flotilla_V1_ListJobsResponse.self)
                slowest = max(slowest, ContinuousClock.now - sent)
                peak = max(peak, (try? ClusterBench.residentKiB(coordinator.pid)) ?? 0)
                try? await Task.sleep(for: .milliseconds(20))
            }
            return (slowest, peak)
        }
        try await body()
        try await Task.sleep(for: .seconds(1))
        probing.cancel()
        let (slowest, peak) = await probing.value
        print(String(format: "  %@: RSS +%d MiB over idle at peak, bystander's slowest request %.1f ms",
                     name, max(0, peak - idle) / 1024, ClusterBench.seconds(slowest) * 1_000))
    }
}
