import COpenSSL
import COpenSSLShim
import NIOCore

/// What one OpenSSL call achieved.
enum TLSResult<Value> {
    /// OpenSSL needs more bytes from the network before it can go on.
    case incomplete
    case complete(Value)
    case failed(TLSError)
}

/// What a read found once the handshake is done.
enum TLSReceived {
    /// This many plaintext bytes were appended to the buffer.
    case plaintext(Int)
    /// The peer's close_notify: it will send nothing more.
    case closeNotify
}

/// One connection's `SSL`, with two memory BIOs in place of a socket: ciphertext from the
/// network goes into `networkIn`, ciphertext for the network is taken from `networkOut`.
/// Not thread-safe: used only on its channel's event loop.
final class TLSConnection {
    private let ssl: OpaquePointer
    private var networkIn: OpaquePointer
    private var networkOut: OpaquePointer

    init(context: TLSContext, mode: TLSContext.Mode) throws {
        ssl = try context.makeSSL()
        guard let input = Self.memoryBIO() else {
            SSL_free(ssl)
            throw TLSError.setupFailed("BIO_new", openSSL: OpenSSLErrorStack.drain())
        }
        guard let output = Self.memoryBIO() else {
            BIO_free(input)
            SSL_free(ssl)
            throw TLSError.setupFailed("BIO_new", openSSL: OpenSSLErrorStack.drain())
        }
        SSL_set_bio(ssl, input, output)  // the SSL owns and frees both from here
        networkIn = input
        networkOut = output
        // The handler's mode decides, whatever side the context was loaded for.
        SSL_set_verify(ssl, SSLContextLoader.verifyMode(for: mode), nil)
        switch mode {
        case .server: SSL_set_accept_state(ssl)
        case .client: SSL_set_connect_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl)
    }

    /// An empty memory BIO that means "wait for more" when drained, never EOF: EOF is TCP's to report.
    private static func memoryBIO() -> OpaquePointer? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        _ = flotilla_BIO_set_mem_eof_return(bio, -1)
        return bio
    }

    /// A memory BIO keeps the largest buffer it ever needed (the handshake's certificate
    /// flight, one big frame), so an idle connection would hold it for its whole life.
    /// Once both BIOs are drained, ones that grew past `idleAllocation` are replaced by
    /// empty ones (SSL_set0_* frees the old).
    func releaseIdleBuffers() {
        guard BIO_ctrl_pending(networkIn) == 0, BIO_ctrl_pending(networkOut) == 0 else { return }
        if flotilla_BIO_mem_allocated(networkIn) > Self.idleAllocation, let fresh = Self.memoryBIO() {
            SSL_set0_rbio(ssl, fresh)
            networkIn = fresh
        }
        if flotilla_BIO_mem_allocated(networkOut) > Self.idleAllocation, let fresh = Self.memoryBIO() {
            SSL_set0_wbio(ssl, fresh)
            networkOut = fresh
        }
    }

    /// What a drained BIO may keep: a heartbeat's records fit.
    static let idleAllocation = 1_024

    /// Queues ciphertext from the network for OpenSSL to consume.
    func receive(_ ciphertext: ByteBuffer) -> TLSResult<Void> {
        var failed = false
        ciphertext.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count, !failed {
                let chunk = Int32(clamping: bytes.count - offset)
                OpenSSLErrorStack.clear()
                let written = BIO_write(networkIn, bytes.baseAddress! + offset, chunk)
                if written <= 0 { failed = true } else { offset += Int(written) }
            }
        }
        return failed ? .failed(.setupFailed("BIO_write", openSSL: OpenSSLErrorStack.drain())) : .complete(())
    }

    func handshake() -> TLSResult<Void> {
        OpenSSLErrorStack.clear()
        let status = SSL_do_handshake(ssl)
        if status == 1 { return .complete(()) }
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .incomplete
        default:
            return .failed(.handshakeFailed(openSSL: OpenSSLErrorStack.drain() + verificationFailure()))
        }
    }

    /// The certificate check's own reason ("certificate has expired"), which the error
    /// stack reduces to "certificate verify failed".
    private func verificationFailure() -> [String] {
        let code = SSL_get_verify_result(ssl)
        guard code != Int(X509_V_OK), let reason = X509_verify_cert_error_string(code) else { return [] }
        return ["peer certificate: " + String(cString: reason)]
    }

    /// Decrypts one record's worth of plaintext onto the end of `buffer`.
    func read(into buffer: inout ByteBuffer) -> TLSResult<TLSReceived> {
        var status: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.recordSize) { space in
            OpenSSLErrorStack.clear()
            status = SSL_read(ssl, space.baseAddress, Int32(clamping: space.count))
            return max(Int(status), 0)
        }
        if status > 0 { return .complete(.plaintext(Int(status))) }
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .incomplete
        case SSL_ERROR_ZERO_RETURN:
            return .complete(.closeNotify)
        default:
            return .failed(.readFailed(openSSL: OpenSSLErrorStack.drain()))
        }
    }

    /// Encrypts all of `plaintext` into the output BIO, which grows as needed, so a write
    /// never has to wait for the network.
    func write(_ plaintext: ByteBuffer) -> TLSResult<Void> {
        var failure: TLSError?
        plaintext.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                OpenSSLErrorStack.clear()
                let written = SSL_write(ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
                guard written > 0 else {
                    failure = .writeFailed(openSSL: OpenSSLErrorStack.drain())
                    return
                }
                offset += Int(written)
            }
        }
        return failure.map { .failed($0) } ?? .complete(())
    }

    /// Queues our close_notify. `.complete` once the peer's has been received too,
    /// `.incomplete` while it is still awaited.
    func shutdown() -> TLSResult<Void> {
        OpenSSLErrorStack.clear()
        switch SSL_shutdown(ssl) {
        case 1: return .complete(())
        case 0: return .incomplete
        default: return .failed(.writeFailed(openSSL: OpenSSLErrorStack.drain()))
        }
    }

    /// Everything OpenSSL has produced for the network since the last call, in one buffer.
    func takeOutput(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let pending = Int(BIO_ctrl_pending(networkOut))
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { space in
            max(Int(BIO_read(networkOut, space.baseAddress, Int32(clamping: pending))), 0)
        }
        return buffer
    }

    /// The peer as its verified certificate describes it; call once the handshake completed.
    func peer() -> TLSResult<TLSPeer> {
        OpenSSLErrorStack.clear()
        do {
            return .complete(try TLSPeer(verifiedPeerOf: ssl))
        } catch {
            return .failed(error)
        }
    }

    /// The largest TLS record's plaintext: one `SSL_read` never returns more.
    static let recordSize = 16_384
}
