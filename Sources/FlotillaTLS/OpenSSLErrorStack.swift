import COpenSSL

/// OpenSSL's thread-local error queue. Cleared before every call so that a failure reports
/// its own errors, not leftovers from an earlier call on the same thread.
enum OpenSSLErrorStack {
    static func clear() {
        ERR_clear_error()
    }

    /// Empties the queue into readable lines, oldest first.
    static func drain() -> [String] {
        var lines: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            lines.append(withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { text in
                ERR_error_string_n(code, text.baseAddress, text.count)
                return String(cString: text.baseAddress!)
            })
        }
        return lines
    }
}
