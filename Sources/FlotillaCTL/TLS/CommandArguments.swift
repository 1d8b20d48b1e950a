import FlotillaPKI

/// Checks on argument values, failing with the one-line messages `flotillactl` prints.
enum CommandArguments {
    static func role(_ text: String) throws -> NodeRole {
        guard let role = NodeRole(rawValue: text) else {
            let roles = NodeRole.allCases.map(\.rawValue).joined(separator: ", ")
            throw CommandFailure.invalidArgument("invalid role '\(text)' (one of \(roles))")
        }
        return role
    }

    static func validateComponent(_ value: String, kind: String) throws {
        guard NodeIdentity.isValidComponent(value) else {
            throw CommandFailure.invalidArgument("invalid \(kind) '\(value)' (1-128 letters, digits, '-', '_', '.')")
        }
    }

    /// A tenant binds what a client may do with jobs; other roles act for every tenant.
    static func validateTenant(_ tenant: String, role: NodeRole) throws {
        guard role == .client else {
            throw CommandFailure.invalidArgument("--tenant is only for client certificates, not role \(role.rawValue)")
        }
        try validateComponent(tenant, kind: "tenant")
    }

    static func validateDays(_ days: Int) throws {
        guard days > 0 else { throw CommandFailure.invalidArgument("invalid --days \(days) (must be at least 1)") }
    }
}
