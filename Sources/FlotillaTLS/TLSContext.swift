import COpenSSL
import Foundation

/// One node's TLS identity and trust for one side of its connections: an OpenSSL `SSL_CTX`
/// loaded from the files in a `TLSConfiguration`, shared by every connection of that side.
///
/// `@unchecked Sendable` because the only mutable state is the `SSL_CTX` pointer, read and
/// swapped under `lock`; a loaded `SSL_CTX` is never configured again, and OpenSSL
/// refcounts and locks it internally, so `SSL_new` on it from any thread is safe. Each
/// connection's `SSL` holds its own reference, so `reload()` swapping in a new context
/// neither frees nor changes the one live connections use.
public final class TLSContext: @unchecked Sendable {
    public enum Mode: Sendable, Hashable {
        case server
        case client
    }

    public let configuration: TLSConfiguration
    public let mode: Mode
    private let lock = NSLock()
    private var sslContext: OpaquePointer

    /// Loads certificate chain, private key and trust roots; throws `TLSError.cannotLoad`
    /// naming the failing file, or `.keyMismatch`.
    public init(configuration: TLSConfiguration, mode: Mode) throws {
        self.configuration = configuration
        self.mode = mode
        sslContext = try SSLContextLoader.load(configuration, mode: mode)
    }

    deinit {
        SSL_CTX_free(sslContext)
    }

    /// Re-reads the files; connections made afterwards use the new material, existing ones
    /// keep what they started with. On failure nothing changes and the error is thrown.
    public func reload() throws {
        let fresh = try SSLContextLoader.load(configuration, mode: mode)
        let previous = lock.withLock {
            defer { sslContext = fresh }
            return sslContext
        }
        SSL_CTX_free(previous)
    }

    /// A new `SSL` for one connection; the caller owns it.
    func makeSSL() throws -> OpaquePointer {
        try lock.withLock {
            OpenSSLErrorStack.clear()
            guard let ssl = SSL_new(sslContext) else {
                throw TLSError.setupFailed("SSL_new", openSSL: OpenSSLErrorStack.drain())
            }
            return ssl
        }
    }
}
