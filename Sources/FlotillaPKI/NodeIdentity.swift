import Foundation

/// The role a Flotilla node plays; carried in its certificate and claimed in Hello.
public enum NodeRole: String, Sendable, CaseIterable, Codable {
    case coordinator
    case worker
    case router
    case admin
    case client
}

/// Who a certificate says its holder is: `flotilla://CLUSTER/ROLE/NAME`, with an
/// optional query of `region=REGION`, `tenant=TENANT` or both, carried as a URI
/// subject alternative name (PROTOCOL.md, "Identity"). Only a client may name a
/// tenant: it binds the certificate to that tenant's jobs.
public struct NodeIdentity: Sendable, Hashable, CustomStringConvertible {
    public static let scheme = "flotilla"

    public var cluster: String
    public var role: NodeRole
    public var name: String
    public var region: String?
    /// The tenant a client certificate acts for; nil: not bound to one.
    public var tenant: String?

    public init(cluster: String, role: NodeRole, name: String, region: String? = nil, tenant: String? = nil) {
        self.cluster = cluster
        self.role = role
        self.name = name
        self.region = region
        self.tenant = tenant
    }

    /// Names and clusters are DNS-label-like: letters, digits, '-', '_', '.', 1...128 characters.
    public static func isValidComponent(_ value: String) -> Bool {
        guard (1...128).contains(value.utf8.count) else { return false }
        return value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
    }

    /// The URI SAN form; the query, when there is one, lists region before tenant.
    public var uri: String {
        var text = "\(Self.scheme)://\(cluster)/\(role.rawValue)/\(name)"
        let query = [region.map { "region=\($0)" }, tenant.map { "tenant=\($0)" }].compactMap { $0 }
        if !query.isEmpty { text += "?" + query.joined(separator: "&") }
        return text
    }

    public var description: String { uri }

    /// Parses the URI SAN form; nil for anything that is not a well-formed Flotilla identity,
    /// including a tenant on any role but client.
    public init?(uri: String) {
        let prefix = "\(Self.scheme)://"
        guard uri.hasPrefix(prefix) else { return nil }
        var rest = Substring(uri.dropFirst(prefix.count))
        var query = IdentityQuery()
        if let question = rest.firstIndex(of: "?") {
            guard let parsed = IdentityQuery(rest[rest.index(after: question)...]) else { return nil }
            query = parsed
            rest = rest[..<question]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, Self.isValidComponent(parts[0]), Self.isValidComponent(parts[2]),
            let role = NodeRole(rawValue: parts[1]), query.tenant == nil || role == .client
        else { return nil }
        self.init(cluster: parts[0], role: role, name: parts[2], region: query.region, tenant: query.tenant)
    }
}

/// The identity URI's query: `region=R`, `tenant=T` or both joined by `&`, in
/// either order, each at most once; anything else makes the URI malformed.
private struct IdentityQuery {
    var region: String?
    var tenant: String?

    init() {}

    init?(_ text: Substring) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let value = String(pair[pair.index(after: equals)...])
            guard NodeIdentity.isValidComponent(value) else { return nil }
            switch pair[..<equals] {
            case "region" where region == nil: region = value
            case "tenant" where tenant == nil: tenant = value
            default: return nil
            }
        }
    }
}
