import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a pipe line by line on a thread of its own, so a child writing a lot
/// never blocks on a full pipe while the worker is busy elsewhere.
final class LineReader: Sendable {
    /// Longer lines are cut here so a job printing without newlines cannot exhaust memory.
    static let maximumLineBytes = 64 * 1024

    private let finished = Locked(false)

    /// Starts reading `descriptor` (which the reader closes at end of file).
    init(descriptor: Int32, onLine: @escaping @Sendable (String) -> Void) {
        let finished = self.finished
        Thread.detachNewThread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            func emit(_ bytes: ArraySlice<UInt8>) {
                var line = bytes
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                onLine(String(decoding: line, as: UTF8.self))
            }
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[0..<count])
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    emit(pending[start..<newline])
                    start = newline + 1
                }
                pending.removeSubrange(pending.startIndex..<start)
                if pending.count > Self.maximumLineBytes {
                    emit(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
            }
            if !pending.isEmpty { emit(pending[...]) }
            close(descriptor)
            finished.withLock { $0 = true }
        }
    }

    /// True once the writer side closed and every line was delivered.
    var isFinished: Bool { finished.current }

    /// Waits (polling: this only runs after the process exited) until end of file
    /// or `timeout`; false when a leftover holder kept the pipe open.
    func waitUntilFinished(timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !isFinished {
            if clock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}
