import FlotillaPKI
import FlotillaTransport
import FlotillaWire
import SwiftProtobuf

/// Turns a protocol error (PROTOCOL.md §8.2) into the one line an operator reads: what
/// went wrong in their terms and, where there is one, what to do about it.
struct ProtocolErrorMessage {
    let session: ClusterSession

    private var addresses: String { session.settings.addressList }
    private var role: String { session.identity.role.rawValue }

    /// A failure before any request ran: nothing answered, or the handshake was refused.
    func connectFailure(_ error: FlotillaError) -> CommandFailure {
        switch error.code {
        case .unauthenticated, .permissionDenied:
            return CommandFailure(
                "the coordinator at \(addresses) refused the certificate \(session.identity.uri) "
                    + "(\(error.codeName)): \(error.message)")
        case .unsupportedVersion:
            return CommandFailure("\(error.codeName): \(error.message); upgrade flotillactl or the coordinator")
        default:
            // The transport reports socket and TLS failures as UNAVAILABLE text; tell apart the
            // two an operator fixes differently: nothing listening, and TLS material that does not fit.
            if error.message.contains("TLS handshake failed") {
                return CommandFailure(
                    "the TLS handshake with \(addresses) failed (\(error.message)): do --cacert, --cert and --key "
                        + "belong to this cluster's CA?")
            }
            let reason = error.message.contains("Connection refused") ? "connection refused" : error.message
            return CommandFailure("cannot reach a coordinator at \(addresses) (\(reason)): is it running?")
        }
    }

    /// A request the cluster answered with an error.
    func failure(_ error: FlotillaError, request: any SwiftProtobuf.Message, notFound: String?) -> CommandFailure {
        switch error.code {
        case .notLeader:
            let leader = error.leaderHint ?? "not known (an election may be in progress; retry shortly)"
            return CommandFailure("coordinator at \(addresses) is not the leader; the leader is \(leader)")
        case .permissionDenied:
            return CommandFailure(permissionDenied(error, request: request))
        case .notFound:
            return CommandFailure(notFound ?? "\(error.codeName): \(error.message)")
        case .unavailable:
            return CommandFailure(
                "the coordinator at \(addresses) is unavailable (\(error.message))\(retryAfter(error)): is it running?")
        case .deadlineExceeded where error.timedOutHere:
            return CommandFailure(
                "\(error.codeName): no answer from the coordinator at \(addresses) in time (\(error.message)); "
                    + "retry with a longer --timeout")
        default:
            // INVALID_ARGUMENT, RESOURCE_EXHAUSTED, BREAKER_OPEN, ALREADY_EXISTS, FAILED_PRECONDITION,
            // INTERNAL: the server's own message says what was wrong with this request.
            return CommandFailure("\(error.codeName): \(error.message)\(retryAfter(error))")
        }
    }

    /// Names the certificate's role and the role the request needs (RolePolicy, PROTOCOL.md §9),
    /// or the certificate itself when its role was not the reason.
    private func permissionDenied(_ error: FlotillaError, request: any SwiftProtobuf.Message) -> String {
        let operatorRoles: [NodeRole] = [.admin, .client]
        let needed = MessageKind.of(request).map { RolePolicy.allowedSenders(of: $0) } ?? []
        if needed.contains(session.identity.role) {
            // The role may send this kind, so something else was refused: a client
            // naming a tenant its certificate is not bound to (PROTOCOL.md §9.2).
            return "the certificate \(session.identity.uri) may not do this (\(error.codeName): \(error.message))"
        }
        let roles = operatorRoles.filter(needed.contains).map(\.rawValue)
        var text = "the certificate's role (\(role)) may not do this"
        if roles == [NodeRole.admin.rawValue] {
            text += "; `workers`, `status` and other operator commands need an admin certificate"
        } else if !roles.isEmpty {
            text += "; it needs an \(roles.joined(separator: " or ")) certificate"
        }
        return text + " (\(error.codeName): \(error.message))"
    }

    private func retryAfter(_ error: FlotillaError) -> String {
        guard let milliseconds = error.retryAfterMilliseconds else { return "" }
        return " (retry after \(Duration.milliseconds(Int64(milliseconds)).spoken))"
    }
}
