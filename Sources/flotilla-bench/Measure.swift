import Foundation

/// Wall-clock helpers for the benchmarks (benchmarks, unlike the cluster, may read the clock).
enum Measure {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Runs `body` repeatedly for about `seconds` and returns operations per second.
    static func rate(seconds: Double, batch: Int, _ body: () throws -> Void) rethrows -> Double {
        let start = now()
        let budget = UInt64(seconds * 1e9)
        var operations = 0
        while now() - start < budget {
            for _ in 0..<batch { try body() }
            operations += batch
        }
        return Double(operations) / (Double(now() - start) / 1e9)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, duration.components.seconds)) * 1_000_000_000 + UInt64(max(0, duration.components.attoseconds) / 1_000_000_000)
    }

    static func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
        return Double(sorted[max(0, index)]) / 1e6
    }

    static func format(_ value: Double) -> String {
        if value >= 1e6 { return String(format: "%.2f M", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f k", value / 1e3) }
        return String(format: "%.1f", value)
    }
}
