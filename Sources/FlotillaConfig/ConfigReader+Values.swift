import Yams

/// Typed reads. Each names its key, takes a default, and throws a `ConfigError`
/// naming the key (or the environment variable) when the value does not fit.
extension ConfigReader {
    public func string(_ key: String, default value: String) throws -> String {
        guard let (node, origin) = try node(key) else { return value }
        guard let text = node.scalar?.string else { throw ConfigError(key: origin, "expected a string") }
        return text
    }

    /// A string that must be set (non-empty).
    public func requiredString(_ key: String) throws -> String {
        let text = try string(key, default: "")
        guard !text.isEmpty else {
            let remedy = fullKey(key) == key ? "set it in the file or \(environmentName(for: key))" : "set it in \(source)"
            throw ConfigError(key: fullKey(key), "is required (\(remedy))")
        }
        return text
    }

    public func integer(_ key: String, default value: Int, in range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let (node, origin) = try node(key) else { return value }
        guard let text = node.scalar?.string, let number = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw ConfigError(key: origin, "expected an integer, got \(describe(node))")
        }
        guard range.contains(number) else {
            throw ConfigError(key: origin, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    public func double(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let (node, origin) = try node(key) else { return value }
        guard let text = node.scalar?.string, let number = Double(text) else {
            throw ConfigError(key: origin, "expected a number, got \(describe(node))")
        }
        guard range.contains(number) else {
            throw ConfigError(key: origin, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    public func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let (node, origin) = try node(key) else { return value }
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigError(key: origin, "expected true or false, got \(describe(node))")
        }
    }

    /// A duration in milliseconds: an integer (ms) or a number with a unit,
    /// `250ms`, `5s`, `2m`, `1h`. Must be at least `minimum`.
    public func milliseconds(_ key: String, default value: UInt64, minimum: UInt64 = 0) throws -> UInt64 {
        guard let (node, origin) = try node(key) else { return value }
        guard let text = node.scalar?.string, let parsed = Self.parseDuration(text) else {
            throw ConfigError(
                key: origin,
                "expected a duration such as 500ms, 5s or 2m of at most \(Self.maximumMilliseconds / 86_400_000) days, "
                    + "got \(describe(node))")
        }
        guard parsed >= minimum else { throw ConfigError(key: origin, "\(text) is below the minimum of \(minimum) ms") }
        return parsed
    }

    /// A list of strings: a YAML sequence, or one comma-separated string.
    public func strings(_ key: String, default value: [String] = []) throws -> [String] {
        guard let (node, origin) = try node(key) else { return value }
        if let text = node.scalar?.string {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard let sequence = node.sequence else { throw ConfigError(key: origin, "expected a list of strings") }
        return try sequence.map { item in
            guard let text = item.scalar?.string else { throw ConfigError(key: origin, "expected a list of strings") }
            return text
        }
    }

    /// A mapping of strings to strings (labels, params, fallback chains).
    public func stringMap(_ key: String) throws -> [String: String] {
        guard let (node, origin) = try node(key) else { return [:] }
        guard let mapping = node.mapping else {
            if node.scalar?.string.isEmpty == true { return [:] }
            throw ConfigError(key: origin, "expected a mapping of names to values")
        }
        var result: [String: String] = [:]
        for (name, value) in mapping {
            guard let name = name.scalar?.string, let text = value.scalar?.string else {
                throw ConfigError(key: origin, "expected string keys and values")
            }
            result[name] = text
        }
        return result
    }

    /// A list of mappings (GPUs, models), each read by its own `ConfigReader`
    /// whose keys are reported as `key[i].field`.
    public func table<T>(_ key: String, _ read: (ConfigReader) throws -> T) throws -> [T] {
        guard let (node, origin) = try node(key) else { return [] }
        guard let sequence = node.sequence else {
            if node.scalar?.string.isEmpty == true { return [] }
            throw ConfigError(key: origin, "expected a list of mappings")
        }
        return try sequence.enumerated().map { index, item in
            let itemKey = "\(key)[\(index)]"
            guard let mapping = item.mapping else { throw ConfigError(key: itemKey, "expected a mapping") }
            let itemSource = origin.hasPrefix(environmentName(for: "")) ? origin : source
            let itemReader = try ConfigReader(mapping: mapping, source: itemSource, keyPrefix: itemKey)
            let value = try read(itemReader)
            try itemReader.finish()
            return value
        }
    }

    /// The longest duration any key accepts: ten years. Durations become nanosecond
    /// `Int64`s in NIO and Swift's clocks, whose range (292 years) this stays well inside,
    /// so no later arithmetic on a configured duration can overflow.
    public static let maximumMilliseconds: UInt64 = 10 * 365 * 86_400_000

    /// Milliseconds, or nil when `text` is not a duration or exceeds `maximumMilliseconds`.
    static func parseDuration(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number >= 0, number.isFinite else { return nil }
            // Compared as a Double first: converting an out-of-range Double to UInt64 traps.
            let milliseconds = number * scale
            guard milliseconds <= Double(maximumMilliseconds) else { return nil }
            return UInt64(milliseconds)
        }
        guard let milliseconds = UInt64(trimmed), milliseconds <= maximumMilliseconds else { return nil }
        return milliseconds
    }

    private func describe(_ node: Node) -> String {
        if let text = node.scalar?.string { return "\"\(text)\"" }
        return node.sequence != nil ? "a list" : "a mapping"
    }
}
