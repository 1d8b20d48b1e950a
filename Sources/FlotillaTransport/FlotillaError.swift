import FlotillaProto

/// A protocol error as a Swift error: what the peer (or this side) reported, with its code.
public struct FlotillaError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Flotilla_V1_ErrorCode
    public var message: String
    /// For NOT_LEADER: the leader's "host:port", when known.
    public var leaderHint: String?
    public var retryAfterMilliseconds: UInt64?
    /// This side gave up waiting (a request's or a handshake's deadline passed), rather than
    /// the peer answering DEADLINE_EXCEEDED about work of its own; never sent.
    public var timedOutHere = false

    public init(_ code: Flotilla_V1_ErrorCode, _ message: String, leaderHint: String? = nil, retryAfterMilliseconds: UInt64? = nil) {
        self.code = code
        self.message = message
        self.leaderHint = leaderHint
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    /// DEADLINE_EXCEEDED raised by this side's own timer.
    public static func timedOutHere(_ message: String) -> FlotillaError {
        var error = FlotillaError(.deadlineExceeded, message)
        error.timedOutHere = true
        return error
    }

    public init(_ proto: Flotilla_V1_Error) {
        self.init(
            proto.code, proto.message,
            leaderHint: proto.leaderHint.isEmpty ? nil : proto.leaderHint,
            retryAfterMilliseconds: proto.retryAfterMs == 0 ? nil : proto.retryAfterMs)
    }

    public var proto: Flotilla_V1_Error {
        var error = Flotilla_V1_Error()
        error.code = code
        error.message = message
        error.leaderHint = leaderHint ?? ""
        error.retryAfterMs = retryAfterMilliseconds ?? 0
        return error
    }

    /// The code's name as PROTOCOL.md spells it, e.g. "NOT_LEADER".
    public var codeName: String { Self.name(of: code) }

    public var description: String {
        var text = "\(codeName): \(message)"
        if let leaderHint { text += " (leader: \(leaderHint))" }
        return text
    }

    static func name(of code: Flotilla_V1_ErrorCode) -> String {
        switch code {
        case .unspecified: return "ERROR_CODE_UNSPECIFIED"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .notFound: return "NOT_FOUND"
        case .alreadyExists: return "ALREADY_EXISTS"
        case .permissionDenied: return "PERMISSION_DENIED"
        case .unauthenticated: return "UNAUTHENTICATED"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .failedPrecondition: return "FAILED_PRECONDITION"
        case .unavailable: return "UNAVAILABLE"
        case .breakerOpen: return "BREAKER_OPEN"
        case .notLeader: return "NOT_LEADER"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .internal: return "INTERNAL"
        case .unsupportedVersion: return "UNSUPPORTED_VERSION"
        case .cancelled: return "CANCELLED"
        case .UNRECOGNIZED(let value): return "ERROR_CODE_\(value)"
        }
    }
}
