import ArgumentParser

/// Drill durations: typed as a number and a unit ("500ms", "20s", "2m", "1h", summed
/// when several: "1m30s"), carried as the protocol's milliseconds, and printed to the
/// tenth of a second under a minute, since a drill's detection and recovery times are
/// what it measures and "15s" would hide whether 15.9s met a 15s objective.
enum DrillDuration {
    static let units: [Substring: Double] = ["ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000]

    /// For `@Option(transform:)`: the error follows ArgumentParser's "The value '20' is
    /// invalid for '--duration <duration>':". A bare number is refused rather than guessed,
    /// as "20" could as well be seconds as milliseconds; zero is refused because the
    /// protocol reads 0 as "the default", which the option's absence already says.
    static func milliseconds(_ text: String) throws -> UInt64 {
        let expected = "expected a duration such as 500ms, 20s, 2m or 1m30s"
        var rest = Substring(text.lowercased())
        var total = 0.0
        guard !rest.isEmpty else { throw ValidationError(expected) }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), let scale = units[unit] else { throw ValidationError(expected) }
            total += value * scale
        }
        guard total.rounded() >= 1 else { throw ValidationError("the duration must be at least 1ms") }
        guard total < 1e15 else { throw ValidationError("the duration is too long") }
        return UInt64(total.rounded())
    }

    /// "850ms", "15.2s", "20s", then as `Duration.spoken` from a minute on ("2m5s").
    static func text(_ milliseconds: UInt64) -> String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let tenths = (milliseconds + 50) / 100
        if tenths < 600 { return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s" }
        return Duration.milliseconds(Int64(clamping: milliseconds)).spoken
    }

    /// A timeline offset from the injection, to the millisecond: "+12.345s", "-0.512s".
    static func offset(_ milliseconds: Int64) -> String {
        let magnitude = milliseconds.magnitude
        let fraction = String(magnitude % 1000)
        return (milliseconds < 0 ? "-" : "+") + "\(magnitude / 1000)."
            + String(repeating: "0", count: 3 - fraction.count) + fraction + "s"
    }
}
