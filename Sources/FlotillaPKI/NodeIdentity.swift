import Foundation

/// The role a Flotilla node plays; carried in its certificate and claimed in Hello.
public enum NodeRole: String, Sendable, CaseIterable, Codable {
    case coordinator
    case worker
    case router
    case admin
    case client
}

/// Who a certificate says its holder is: `flotilla://CLUSTER/ROLE/NAME[?region=REGION]`,
/// carried as a URI subject alternative name (PROTOCOL.md, "Identity").
public struct NodeIdentity: Sendable, Hashable, CustomStringConvertible {
    public static let scheme = "flotilla"

    public var cluster: String
    public var role: NodeRole
    public var name: String
    public var region: String?

    public init(cluster: String, role: NodeRole, name: String, region: String? = nil) {
        self.cluster = cluster
        self.role = role
        self.name = name
        self.region = region
    }

    /// Names and clusters are DNS-label-like: letters, digits, '-', '_', '.', 1...128 characters.
    public static func isValidComponent(_ value: String) -> Bool {
        guard (1...128).contains(value.utf8.count) else { return false }
        return value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
    }

    /// The URI SAN form.
    public var uri: String {
        var text = "\(Self.scheme)://\(cluster)/\(role.rawValue)/\(name)"
        if let region { text += "?region=\(region)" }
        return text
    }

    public var description: String { uri }

    /// Parses the URI SAN form; nil for anything that is not a well-formed Flotilla identity.
    public init?(uri: String) {
        let prefix = "\(Self.scheme)://"
        guard uri.hasPrefix(prefix) else { return nil }
        var rest = Substring(uri.dropFirst(prefix.count))
        var region: String?
        if let question = rest.firstIndex(of: "?") {
            let query = rest[rest.index(after: question)...]
            rest = rest[..<question]
            guard query.hasPrefix("region=") else { return nil }
            let value = String(query.dropFirst("region=".count))
            guard Self.isValidComponent(value) else { return nil }
            region = value
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, Self.isValidComponent(parts[0]), Self.isValidComponent(parts[2]),
            let role = NodeRole(rawValue: parts[1])
        else { return nil }
        self.init(cluster: parts[0], role: role, name: parts[2], region: region)
    }
}
