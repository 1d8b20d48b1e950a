import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import FlotillaWire
import Foundation
import NIOCore
import Testing

extension ProcessClusterTests {
    /// An authenticated peer cannot make the coordinator's memory grow without bound, nor
    /// starve other clients (issue 8, item 1). Each attack reproduces a probe that used to
    /// cost hundreds of megabytes or tens of seconds of latency.
    @Suite struct HostilePeerTests {
        /// The bound asserted on RSS growth over idle; the exact figures are in `flotilla-bench attacks`.
        static let rssBoundBytes = 256 << 20
        /// How long a well-behaved client may wait while the attacks run (2-core CI).
        static let latencyBound = Duration.seconds(3)

        static func rss(of pid: Int32) throws -> Int { try ProcessFacts.residentKiB(pid) << 10 }

        /// A well-behaved client's request, timed.
        static func timedStatus(_ connection: FlotillaConnection) async throws -> Duration {
            let started = ContinuousClock.now
            var one = Flotilla_V1_ListJobsRequest()
            one.limit = 1
            _ = try await connection.request(one, expecting: Flotilla_V1_ListJobsResponse.self)
            return ContinuousClock.now - started
        }

        @Test func attacksStayWithinTheMemoryBoundAndOthersAreServed() async throws {
            try await ClusterHarness.withCluster { cluster in
                let coordinator = try await cluster.startCoordinator()
                let worker = try await cluster.connect(.worker, "w1")
                _ = try await worker.request(CoordinatorBadInputTests.registration("w1", gpus: 1),
                                             expecting: Flotilla_V1_RegisterWorkerResponse.self)
                let bystander = try await cluster.connect(.client, "bystander")
                // Jobs, so that every ListJobs answer is tens of kilobytes.
                for index in 0..<150 {
                    _ = try await cluster.submit(ClusterHarness.spec(model: "sdxl", key: "j\(index)",
                                                                     params: ["prompt": String(repeating: "p", count: 200)]),
                                                 via: bystander)
                }
                _ = try await Self.timedStatus(bystander)
                let idle = try Self.rss(of: coordinator.pid)
                var peak = idle
                var slowest = Duration.zero
                func sample() async throws {
                    peak = max(peak, try Self.rss(of: coordinator.pid))
                    slowest = max(slowest, try await Self.timedStatus(bystander))
                }

                // 1. Compressed ListJobs frames that expand to 16 MiB of packed enums, eight
                //    connections with eight frames each. Refused from the header: closed.
                let amplifying = RawFrames.amplifyingListJobs(count: (16 << 20) - 8, correlationID: 7)
                #expect(amplifying.count < 100_000)
                var amplifiers: [FlotillaConnection] = []
                for index in 0..<8 {
                    let connection = try await cluster.connect(.client, "amplifier-\(index)")
                    for _ in 0..<8 { try? await RawFrames.send(amplifying, on: connection) }
                    amplifiers.append(connection)
                }
                try await sample()
                for connection in amplifiers { #expect(await Self.closed(connection)) }

                // 2. A client that sends requests and never reads the answers.
                let deaf = try await cluster.connect(.client, "deaf")
                try await deaf.channel.setOption(ChannelOptions.autoRead, value: false).get()
                var list = Flotilla_V1_ListJobsRequest()
                list.limit = 150
                let listBytes: [UInt8] = try list.serializedBytes()
                let burst = (1...2_000).flatMap { id in
                    RawFrames.frame(kind: .listJobsRequest, correlationID: UInt64(id), payload: listBytes)
                }
                let deafSends = Task { for _ in 0..<10 { try? await RawFrames.send(burst, on: deaf) } }
                try await Task.sleep(for: .seconds(2))
                try await sample()

                // 3. One-way requests (correlation id 0), which no cap used to count.
                let loud = try await cluster.connect(.client, "loud")
                let oneWay = (0..<300).flatMap { _ in
                    RawFrames.frame(kind: .listJobsRequest, correlationID: 0, payload: listBytes)
                }
                try await RawFrames.send(oneWay, on: loud)
                try await sample()

                // 4. Partial frames: forty connections each declaring a 1 MiB SubmitJob and
                //    sending all but its last byte, and one declaring 16 MiB (refused at once).
                var holders: [FlotillaConnection] = []
                for index in 0..<40 {
                    let connection = try await cluster.connect(.client, "holder-\(index)")
                    let partial = RawFrames.header(length: 1 << 20, flags: 0, kind: MessageKind.submitJobRequest.rawValue,
                                                   correlationID: 1) + [UInt8](repeating: 0x0a, count: (1 << 20) - 1)
                    try? await RawFrames.send(partial, on: connection)
                    holders.append(connection)
                }
                let huge = try await cluster.connect(.client, "huge")
                try? await RawFrames.send(RawFrames.header(length: 16 << 20, flags: 0, kind: MessageKind.submitJobRequest.rawValue,
                                                           correlationID: 1) + [UInt8](repeating: 0, count: 1 << 20), on: huge)
                #expect(await Self.closed(huge))
                try await Task.sleep(for: .milliseconds(500))
                try await sample()

                #expect(coordinator.isRunning)
                let growth = peak - idle
                #expect(growth < Self.rssBoundBytes, "RSS grew by \(growth >> 20) MiB over an idle \(idle >> 20) MiB")
                #expect(slowest < Self.latencyBound, "a bystander's request took \(slowest)")
                print("hostile peers: idle RSS \(idle >> 20) MiB, peak \(peak >> 20) MiB, slowest bystander request \(slowest)")
                deafSends.cancel()
                for connection in [deaf, loud] + holders { await connection.close() }
                // Nothing stored was lost.
                let listed = try await bystander.request(list, expecting: Flotilla_V1_ListJobsResponse.self)
                #expect(listed.jobs.count == 150)
            }
        }

        static func closed(_ connection: FlotillaConnection, within limit: Duration = .seconds(5)) async -> Bool {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if !connection.isActive { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return !connection.isActive
        }
    }
}
