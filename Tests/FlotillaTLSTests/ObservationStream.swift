import FlotillaTLS
import NIOCore

struct TimedOut: Error, CustomStringConvertible {
    let waitingFor: String
    var description: String { "timed out waiting for \(waitingFor)" }
}

/// Observations from event-loop threads, awaited by the test in order.
final class ObservationStream: Sendable {
    private let stream: AsyncStream<Observation>
    private let continuation: AsyncStream<Observation>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Observation.self)
    }

    func record(_ observation: Observation) {
        continuation.yield(observation)
    }

    /// The next observation satisfying `matching`, skipping the others; fails after `limit`.
    func next(
        _ what: String, within limit: Duration = .seconds(10), matching: @escaping @Sendable (Observation) -> Bool
    ) async throws -> Observation {
        let stream = self.stream
        return try await withDeadline(limit, waitingFor: what) {
            for await observation in stream where matching(observation) { return observation }
            throw TimedOut(waitingFor: what + " (stream ended)")
        }
    }

    /// The peer of the next completed handshake; throws the error if a failure comes first.
    func handshake() async throws -> TLSPeer {
        let observation = try await next("a completed handshake") { $0.peer != nil || $0.error != nil }
        if let peer = observation.peer { return peer }
        throw observation.error!
    }

    func error() async throws -> any Error {
        try await next("an error") { $0.error != nil }.error!
    }

    /// Reads until `count` bytes have arrived.
    func read(count: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard case .read(let buffer) = try await next("\(count - bytes.count) more bytes", matching: { if case .read = $0 { true } else { false } }) else { continue }
            bytes += buffer.readableBytesView
        }
        return bytes
    }
}

/// Runs `operation`, failing with `TimedOut` if it has not finished within `limit`.
func withDeadline<T: Sendable>(
    _ limit: Duration, waitingFor what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(waitingFor: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension Channel {
    /// Waits for the channel to close, whoever closes it.
    func closed(within limit: Duration = .seconds(10)) async throws {
        let future = closeFuture
        try await withDeadline(limit, waitingFor: "the channel to close") { try await future.get() }
    }
}
