import NIOCore

/// The result of a future on an `EmbeddedEventLoop`, or nil while it is still pending;
/// never blocks, since nothing would fulfil it while the test waits.
func outcome<T>(_ future: EventLoopFuture<T>) -> Result<T, any Error>? {
    var result: Result<T, any Error>?
    future.assumeIsolated().whenComplete { result = $0 }
    return result
}

extension Result {
    var succeeded: Bool {
        if case .success = self { return true }
        return false
    }
}

extension ByteBuffer {
    init(_ text: String) {
        self.init(string: text)
    }
}
