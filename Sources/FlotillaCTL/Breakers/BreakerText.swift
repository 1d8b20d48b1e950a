import FlotillaProto

/// The human forms of a breaker: a table row for `breakers`, one line after `reset`/`trip`.
enum BreakerText {
    static func table(_ breakers: [Flotilla_V1_BreakerInfo]) -> String {
        guard !breakers.isEmpty else { return "no breakers" }
        var table = Table("MODEL", "STATE", "FAILURES", "NEXT", "PROBES", "FALLBACK")
        for breaker in breakers {
            table.append([
                breaker.model, breaker.state.name, "\(breaker.recentFailures)",
                breaker.nextTransitionMs == 0 ? "-" : "in " + spoken(breaker.nextTransitionMs),
                probes(breaker) ?? "-",
                breaker.fallbackChain.isEmpty ? "-" : breaker.fallbackChain.joined(separator: " -> "),
            ])
        }
        return table.text
    }

    /// "breaker mochi-1: OPEN (half-open in 30s)", "breaker mochi-1: HALF_OPEN (probes 1/3 ok, 2 in flight)",
    /// "breaker mochi-1: CLOSED".
    static func line(_ breaker: Flotilla_V1_BreakerInfo) -> String {
        var details: [String] = []
        switch breaker.state {
        case .open:
            if breaker.nextTransitionMs > 0 { details.append("half-open in " + spoken(breaker.nextTransitionMs)) }
        case .halfOpen:
            if let probes = probes(breaker) { details.append("probes " + probes) }
        default:
            if breaker.recentFailures > 0 {
                details.append("\(breaker.recentFailures) recent failure" + (breaker.recentFailures == 1 ? "" : "s"))
            }
        }
        let text = "breaker \(breaker.model): \(breaker.state.name)"
        return details.isEmpty ? text : text + " (" + details.joined(separator: ", ") + ")"
    }

    /// "1/3 ok, 2 in flight" while HALF_OPEN; nil when there are no probes to tell of.
    static func probes(_ breaker: Flotilla_V1_BreakerInfo) -> String? {
        let inFlight = "\(breaker.probesInFlight) in flight"
        guard breaker.state == .halfOpen else { return breaker.probesInFlight > 0 ? inFlight : nil }
        let succeeded = breaker.probesAllowed > 0
            ? "\(breaker.probesSucceeded)/\(breaker.probesAllowed) ok" : "\(breaker.probesSucceeded) ok"
        return succeeded + ", " + inFlight
    }

    private static func spoken(_ milliseconds: UInt64) -> String {
        Duration.milliseconds(Int64(clamping: milliseconds)).spoken
    }
}
