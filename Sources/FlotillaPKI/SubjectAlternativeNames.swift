import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The subjectAltName of a node certificate: its identity URI plus the DNS names and
/// addresses peers may dial it by. Every value is validated here because the result is
/// OpenSSL configuration text, where a stray comma would smuggle in another name.
struct SubjectAlternativeNames {
    var uri: String
    var dnsNames: [String]
    var ipAddresses: [String]

    init(identity: NodeIdentity, dnsNames: [String], ipAddresses: [String]) throws {
        var components = [("cluster", identity.cluster), ("name", identity.name)]
        if let region = identity.region { components.append(("region", region)) }
        if let tenant = identity.tenant {
            // A tenant scopes what a client may do with jobs; on any other role it would mean nothing.
            guard identity.role == .client else {
                throw PKIError.invalidName("a tenant binds only client certificates, not role \(identity.role.rawValue)")
            }
            components.append(("tenant", tenant))
        }
        for (label, value) in components {
            guard NodeIdentity.isValidComponent(value) else {
                throw PKIError.invalidName("invalid \(label) '\(value)' (1-128 letters, digits, '-', '_', '.')")
            }
        }
        for name in dnsNames where !Self.isValidDNSName(name) {
            throw PKIError.invalidName("invalid DNS name '\(name)'")
        }
        for address in ipAddresses where !Self.isValidIPAddress(address) {
            throw PKIError.invalidName("invalid IP address '\(address)'")
        }
        self.uri = identity.uri
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
    }

    /// OpenSSL's `subjectAltName` configuration value.
    var configurationValue: String {
        (["URI:\(uri)"] + dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }).joined(separator: ",")
    }

    /// Hostnames of letters, digits and '-' per label; a leading "*." wildcard is allowed.
    static func isValidDNSName(_ name: String) -> Bool {
        guard (1...253).contains(name.utf8.count) else { return false }
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*", labels.count > 1 { labels.removeFirst() }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                        || byte == 0x2D
                }
        }
    }

    static func isValidIPAddress(_ address: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, address, &v4) == 1 || inet_pton(AF_INET6, address, &v6) == 1
    }
}
