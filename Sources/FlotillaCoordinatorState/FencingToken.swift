import FlotillaProto

/// Identifies one attempt of one job: the leader term it was assigned in and
/// its number. Ordered by attempt, then term (PROTOCOL.md §11.1), so a worker
/// that comes back late can never report over a newer attempt.
public struct FencingToken: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var term: UInt64
    public var attempt: UInt32

    public init(term: UInt64, attempt: UInt32) {
        self.term = term
        self.attempt = attempt
    }

    public init(_ proto: Flotilla_V1_FencingToken) {
        self.init(term: proto.term, attempt: proto.attempt)
    }

    public var proto: Flotilla_V1_FencingToken {
        var token = Flotilla_V1_FencingToken()
        token.term = term
        token.attempt = attempt
        return token
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.attempt, lhs.term) < (rhs.attempt, rhs.term)
    }

    public var description: String { "(term \(term), attempt \(attempt))" }
}
