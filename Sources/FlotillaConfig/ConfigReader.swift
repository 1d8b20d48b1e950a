import Foundation
import Yams

/// A configuration value that is missing, of the wrong type or out of range,
/// or a key nobody reads. `key` is the dotted YAML path (`health.heartbeat_interval_ms`)
/// and, when the value came from the environment, the variable's name says so.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "invalid configuration: \(key): \(message)" }
}

/// Reads a YAML document with every key overridable from the environment:
/// `health.heartbeat_interval_ms` is overridden by `FLOTILLA_HEALTH_HEARTBEAT_INTERVAL_MS`.
/// An environment value is parsed as YAML too, so lists and maps can be
/// overridden (`FLOTILLA_COORDINATORS='[a:7000, b:7000]'`).
///
/// Readers name the keys they understand; `finish()` then rejects any YAML key
/// that no reader asked for, so a typo is an error rather than a silent default.
public final class ConfigReader {
    public let source: String
    private let root: [String: Node]
    private let environment: [String: String]
    private let prefix: String
    /// For a table item: its place in the parent document, e.g. `models[2]`.
    private let keyPrefix: String
    private var consumed: Set<String> = []

    /// - Parameters:
    ///   - yaml: the document; nil or empty: every key takes its default or the environment's value.
    ///   - source: where the document came from, for messages (a path).
    ///   - dataMaps: keys (last path component) whose mappings are values, not more keys.
    public init(yaml: String?, source: String = "configuration", environment: [String: String] = [:],
                prefix: String = "FLOTILLA_", dataMaps: Set<String> = ["labels", "params", "fallbacks"]) throws {
        self.source = source
        self.environment = environment
        self.prefix = prefix
        self.keyPrefix = ""
        guard let yaml, !yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            root = [:]
            return
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(key: source, "not valid YAML: \(error)")
        }
        guard let node else { root = [:]; return }
        guard let mapping = node.mapping else {
            throw ConfigError(key: source, "the document must be a mapping of keys to values")
        }
        var flat: [String: Node] = [:]
        try Self.flatten(mapping, prefix: "", dataMaps: dataMaps, into: &flat)
        root = flat
    }

    /// One item of a table: no environment overrides of its own.
    init(mapping: Node.Mapping, source: String, keyPrefix: String) throws {
        self.source = source
        self.environment = [:]
        self.prefix = ""
        self.keyPrefix = keyPrefix
        var flat: [String: Node] = [:]
        try Self.flatten(mapping, prefix: "", dataMaps: ["labels", "params", "env"], into: &flat)
        root = flat
    }

    /// Loads `path` (nil: no file) with the process environment.
    public convenience init(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let path else {
            try self.init(yaml: nil, environment: environment)
            return
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: path, "cannot read the configuration file: \(error.localizedDescription)")
        }
        try self.init(yaml: text, source: path, environment: environment)
    }

    /// Nested mappings become dotted keys; lists and scalars are leaves.
    private static func flatten(_ mapping: Node.Mapping, prefix: String, dataMaps: Set<String>,
                                into flat: inout [String: Node]) throws {
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty else {
                throw ConfigError(key: prefix.isEmpty ? "(root)" : prefix, "keys must be non-empty strings")
            }
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let nested = value.mapping, !nested.isEmpty, !dataMaps.contains(key) {
                try flatten(nested, prefix: path, dataMaps: dataMaps, into: &flat)
            } else {
                flat[path] = value
            }
        }
    }

    /// The environment variable that overrides `key`.
    public func environmentName(for key: String) -> String {
        guard keyPrefix.isEmpty else { return "(none: \(keyPrefix) is read from the file)" }
        return prefix + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// The value for `key` and where it came from: the environment wins over the file.
    public func node(_ key: String) throws -> (node: Node, origin: String)? {
        consumed.insert(key)
        let variable = environmentName(for: key)
        if keyPrefix.isEmpty, let text = environment[variable] {
            do {
                if let node = try Yams.compose(yaml: text) { return (node, variable) }
                return (Node(""), variable)
            } catch {
                // A value YAML cannot parse is taken as a plain string.
                return (Node(text), variable)
            }
        }
        return root[key].map { ($0, "\(fullKey(key)) in \(source)") }
    }

    /// `key` as an error names it: within a table item, `table[i].key`.
    public func fullKey(_ key: String) -> String { keyPrefix.isEmpty ? key : "\(keyPrefix).\(key)" }

    /// Keys in the file that no reader asked for.
    public var unknownKeys: [String] {
        root.keys.filter { key in !consumed.contains(key) }.sorted()
    }

    /// Variables of other Flotilla programs (flotillactl's settings, the test harness's),
    /// which may well be set in the same shell or container without being a mistake.
    public static let otherProgramsVariables: Set<String> = [
        "FLOTILLA_ADDR", "FLOTILLA_CACERT", "FLOTILLA_CLIENT_CERT", "FLOTILLA_CLIENT_KEY", "FLOTILLA_PRODUCTS_DIR",
    ]

    /// `FLOTILLA_*` variables that override no key a reader asked for: most likely a typo
    /// (`FLOTILLA_HEALTH_HEARTBEAT_TIMEOUT_MS` for `..._TIMEOUT`), which would otherwise be
    /// silently ignored. Call it after every key has been read.
    public var unknownEnvironmentVariables: [String] {
        guard keyPrefix.isEmpty else { return [] }
        let known = Set(consumed.map(environmentName(for:)))
        return environment.keys
            .filter { $0.hasPrefix(prefix) && !known.contains($0) && !Self.otherProgramsVariables.contains($0) }
            .sorted()
    }

    /// One warning line per unknown `FLOTILLA_*` variable, for the program to log.
    public var environmentWarnings: [String] {
        unknownEnvironmentVariables.map { name in
            "\(name) is set but is not a configuration key of this program; it is ignored"
        }
    }

    /// Throws for the first key in the file that no reader asked for.
    public func finish() throws {
        if let key = unknownKeys.first {
            let known = consumed.sorted().joined(separator: ", ")
            throw ConfigError(key: fullKey(key), "unknown key in \(source) (known keys: \(known))")
        }
    }
}
