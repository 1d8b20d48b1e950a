import FlotillaRandom
import FlotillaWire
import Foundation

/// The file a simulated attempt writes as its checkpoint: a short header
/// naming the job and step, then 64 KiB of bytes derived from them, so that
/// hashing, corruption and resumes behave as they would for a real model.
enum SimulatedCheckpoint {
    static let payloadBytes = 64 * 1024

    /// Writes `<root>/<job>/a<attempt>-s<step>.ckpt` (atomically: a crash never
    /// leaves half a checkpoint under its final name) and returns its path.
    static func write(launch: AttemptLaunch, step: UInt64) throws -> String {
        let directory = launch.jobCheckpointDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/a\(launch.token.attempt)-s\(step).ckpt"
        try contents(jobID: launch.jobID, attempt: launch.token.attempt, step: step)
            .write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    static func contents(jobID: String, attempt: UInt32, step: UInt64) -> Data {
        var data = Data("flotilla simulated checkpoint\njob: \(jobID)\nattempt: \(attempt)\nstep: \(step)\n\n".utf8)
        var random = SplitMix64(seed: SimulatedExecutor.mix(jobID, 0) ^ step)
        var payload = [UInt8](repeating: 0, count: payloadBytes)
        for index in stride(from: 0, to: payloadBytes, by: 8) {
            withUnsafeBytes(of: random.next().littleEndian) { word in
                payload.replaceSubrange(index..<index + 8, with: word)
            }
        }
        data.append(contentsOf: payload)
        return data
    }
}
