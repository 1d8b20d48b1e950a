import ArgumentParser
import FlotillaProto
import FlotillaWire
import NIOCore

/// Frames encoded + decoded per second on one core: heartbeat-sized and 64 KiB payloads,
/// with and without LZ4.
struct WireBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wire", abstract: "Frame encode+decode throughput per core.")

    @Option(help: "Seconds per case.") var seconds: Double = 2

    func run() throws {
        let allocator = ByteBufferAllocator()
        print("case                              frames/s   MiB/s (payload)")
        for benchCase in WireBenchCase.all {
            var configuration = WireConfiguration()
            configuration.compressionThreshold = benchCase.compress ? 4096 : Int.max
            let encoder = FrameEncoder(configuration: configuration)
            var decoder = FrameDecoder(configuration: configuration)
            let frame = try Envelope(benchCase.message(), correlationID: 42, flags: []).frame(allocator: allocator)
            let payloadBytes = frame.payload.readableBytes
            var wire = allocator.buffer(capacity: payloadBytes + 64)
            var decodedCount = 0
            let rate = try Measure.rate(seconds: seconds, batch: 256) {
                wire.clear()
                try encoder.encode(frame, into: &wire)
                if case .some = try decoder.decode(buffer: &wire) { decodedCount += 1 }
            }
            guard decodedCount > 0 else { throw ValidationError("decoder produced no frames") }
            let mib = rate * Double(payloadBytes) / 1_048_576
            print("\(benchCase.name.padding(toLength: 32, withPad: " ", startingAt: 0))  \(Measure.format(rate).leftPad(9))   \(String(format: "%.0f", mib).leftPad(6))")
        }
    }
}

/// The payloads the wire bench measures.
struct WireBenchCase {
    var name: String
    var compress: Bool
    var message: () -> any SwiftProtobuf.Message

    static var all: [WireBenchCase] {
        [
            WireBenchCase(name: "heartbeat (small), no LZ4", compress: false, message: heartbeat),
            WireBenchCase(name: "heartbeat (small), LZ4 on", compress: true, message: heartbeat),
            WireBenchCase(name: "64 KiB job list, no LZ4", compress: false, message: largeList),
            WireBenchCase(name: "64 KiB job list, LZ4", compress: true, message: largeList),
        ]
    }

    static func heartbeat() -> any SwiftProtobuf.Message {
        var heartbeat = Flotilla_V1_HeartbeatRequest()
        heartbeat.workerID = "worker-7"
        heartbeat.freeGpus = 3
        var running = Flotilla_V1_RunningAttempt()
        running.jobID = "job-000123"
        running.step = 30
        running.totalSteps = 50
        running.token.term = 3
        running.token.attempt = 1
        heartbeat.running = [running]
        return heartbeat
    }

    /// About 64 KiB of realistic, compressible job records.
    static func largeList() -> any SwiftProtobuf.Message {
        var list = Flotilla_V1_ListJobsResponse()
        var index = 0
        while (try? list.serializedBytes() as [UInt8])?.count ?? 0 < 65_536 {
            var job = Flotilla_V1_Job()
            job.id = "job-\(100_000 + index)"
            job.spec.model = index % 3 == 0 ? "mochi-1" : "open-sora"
            job.spec.tenant = "tenant-\(index % 17)"
            job.spec.gpuCount = UInt32(1 + index % 4)
            job.spec.params = ["prompt": "a red fox running through snow, cinematic, \(index)", "seed": "\(index * 7919)"]
            job.state = .running
            job.step = UInt64(index % 50)
            job.totalSteps = 50
            list.jobs.append(job)
            index += 1
        }
        return list
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

import SwiftProtobuf
