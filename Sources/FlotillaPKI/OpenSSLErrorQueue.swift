import COpenSSL

/// OpenSSL reports failures on a thread-local queue; these keep one failure's errors
/// from leaking into the next operation's message.
enum OpenSSLErrorQueue {
    static func clear() {
        ERR_clear_error()
    }

    /// Empties the queue, returning its entries joined by "; " (oldest first).
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            let text = buffer.withUnsafeMutableBufferPointer { pointer -> String in
                ERR_error_string_n(code, pointer.baseAddress, pointer.count)
                return String(cString: pointer.baseAddress!)
            }
            messages.append(text)
        }
        return messages.joined(separator: "; ")
    }

    static func failure(_ operation: String) -> PKIError {
        .openSSL(operation: operation, openSSL: drain())
    }
}
