#if canImport(Glibc)
    import Glibc
#endif
import Foundation

/// What one durable write costs on the disk under the bench's data directory:
/// a 300-byte append and `fdatasync`, as the log does per group commit. Every
/// acknowledged submission waits for at least one (and the DURABLE mark's), so
/// this bounds the acknowledgement latency from below on this machine.
enum SyncFloor {
    static func measure(in directory: String, samples: Int = 2_000) throws -> (p50: Double, p99: Double) {
        let path = directory + "/sync-floor.bin"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(descriptor); unlink(path) }
        let record = [UInt8](repeating: 0x5A, count: 300)
        var took: [Double] = []
        for _ in 0..<samples {
            _ = record.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            let started = ContinuousClock.now
            guard fdatasync(descriptor) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            let elapsed = ContinuousClock.now - started
            took.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
        took.sort()
        return (took[took.count / 2], took[took.count * 99 / 100])
    }
}
