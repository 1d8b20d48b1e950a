import Foundation

/// A "host:port" address as users write it ("[::1]:7400" for IPv6).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    /// Parses a comma-separated list, e.g. FLOTILLA_ADDR="10.0.0.1:7400,10.0.0.2:7400".
    public static func list(_ text: String) -> [Endpoint]? {
        let parts = text.split(separator: ",").map(String.init)
        let endpoints = parts.compactMap(Endpoint.init)
        return endpoints.count == parts.count && !endpoints.isEmpty ? endpoints : nil
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
