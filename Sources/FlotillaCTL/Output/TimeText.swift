import Foundation

extension Duration {
    /// Short and rounded, as people read a wait or an age: "850ms", "12s", "2m5s", "1h3m", "2d4h".
    var spoken: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(max(0, milliseconds))ms" }
        let seconds = milliseconds / 1000
        if seconds < 60 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 60 { return Self.pair(minutes, "m", seconds % 60, "s") }
        let hours = minutes / 60
        if hours < 24 { return Self.pair(hours, "h", minutes % 60, "m") }
        return Self.pair(hours / 24, "d", hours % 24, "h")
    }

    private static func pair(_ major: Int64, _ majorUnit: String, _ minor: Int64, _ minorUnit: String) -> String {
        minor == 0 ? "\(major)\(majorUnit)" : "\(major)\(majorUnit)\(minor)\(minorUnit)"
    }
}

/// Times as the protocol carries them (Unix milliseconds, 0 when unknown), told relative
/// to one reading of the clock so a whole table agrees on "now".
struct TimeText {
    let nowMilliseconds: UInt64

    init(now: Date = Date()) {
        nowMilliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
    }

    /// "3s ago"; "-" when the time is unknown.
    func age(_ unixMilliseconds: UInt64) -> String {
        guard unixMilliseconds > 0 else { return "-" }
        guard unixMilliseconds <= nowMilliseconds else { return "just now" }
        return Duration.milliseconds(Int64(nowMilliseconds - unixMilliseconds)).spoken + " ago"
    }

    /// From `start` to `end`, or to now while `end` is 0; "-" when `start` is unknown.
    func duration(from start: UInt64, to end: UInt64) -> String {
        guard start > 0 else { return "-" }
        let stop = end > 0 ? end : nowMilliseconds
        return Duration.milliseconds(Int64(stop > start ? stop - start : 0)).spoken
    }

    /// Local wall-clock time with milliseconds, "12:00:01.234", for event lines.
    static func clock(_ unixMilliseconds: UInt64) -> String {
        var seconds = time_t(unixMilliseconds / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, Int(unixMilliseconds % 1000))
    }

    /// "2024-05-01 12:00:01" in local time, for `jobs get`.
    static func timestamp(_ unixMilliseconds: UInt64) -> String {
        guard unixMilliseconds > 0 else { return "-" }
        var seconds = time_t(unixMilliseconds / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
