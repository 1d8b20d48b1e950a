import COpenSSL
import FlotillaPKI
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
    /// What the loaded certificate must say; nil for contexts that need no check (tests).
    public let ownIdentity: OwnIdentity?
    private let lock = NSLock()
    private var sslContext: OpaquePointer
    private var loadedCertificate: CertificateInfo?

    /// Loads certificate chain, private key and trust roots; throws `TLSError.cannotLoad`
    /// naming the failing file, or `.keyMismatch`. With `ownIdentity`, also throws
    /// `.wrongIdentity` unless the certificate is that identity's, valid now and signed by
    /// the trust roots.
    public init(configuration: TLSConfiguration, mode: Mode, ownIdentity: OwnIdentity? = nil) throws {
        self.configuration = configuration
        self.mode = mode
        self.ownIdentity = ownIdentity
        loadedCertificate = try ownIdentity?.check(configuration)
        sslContext = try SSLContextLoader.load(configuration, mode: mode)
    }

    deinit {
        SSL_CTX_free(sslContext)
    }

    /// The certificate checked at the last load (nil without `ownIdentity`): its expiry is logged.
    public var certificate: CertificateInfo? {
        lock.withLock { loadedCertificate }
    }

    /// Re-reads the files; connections made afterwards use the new material, existing ones
    /// keep what they started with. On failure (unreadable files, or a certificate that
    /// fails the identity check) nothing changes and the error is thrown.
    public func reload() throws {
        let info = try ownIdentity?.check(configuration)
        let fresh = try SSLContextLoader.load(configuration, mode: mode)
        let previous = lock.withLock {
            defer {
                sslContext = fresh
                loadedCertificate = info
            }
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
