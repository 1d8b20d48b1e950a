/// Exponential backoff with full jitter (PROTOCOL.md, "Reconnects"): attempt n waits a
/// uniformly random time in [0, min(max, initial * multiplier^n)]. Pure: the caller
/// supplies the random source, so tests are exact.
public struct Backoff: Sendable, Hashable {
    public var initialMilliseconds: Double = 100
    public var multiplier: Double = 2
    public var maximumMilliseconds: Double = 10_000

    public init(initialMilliseconds: Double = 100, multiplier: Double = 2, maximumMilliseconds: Double = 10_000) {
        self.initialMilliseconds = initialMilliseconds
        self.multiplier = multiplier
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// The upper bound of the wait before attempt `attempt` (0-based).
    public func ceiling(attempt: Int) -> Double {
        var value = initialMilliseconds
        for _ in 0..<max(0, attempt) {
            value *= multiplier
            if value >= maximumMilliseconds { return maximumMilliseconds }
        }
        return min(value, maximumMilliseconds)
    }

    /// The wait before attempt `attempt`, in milliseconds.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Double {
        Double.random(in: 0...ceiling(attempt: attempt), using: &generator)
    }
}
