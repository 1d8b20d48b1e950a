import COpenSSL
import COpenSSLShim

/// Builds a configured `SSL_CTX` from a `TLSConfiguration`'s files.
enum SSLContextLoader {
    static func load(_ configuration: TLSConfiguration, mode: TLSContext.Mode) throws -> OpaquePointer {
        OpenSSLErrorStack.clear()
        // TLS_method serves both sides: the handler picks accept or connect per connection.
        guard let context = SSL_CTX_new(TLS_method()) else {
            throw TLSError.setupFailed("SSL_CTX_new", openSSL: OpenSSLErrorStack.drain())
        }
        do {
            try configureProtocol(context, configuration)
            try loadMaterial(context, configuration, mode: mode)
            SSL_CTX_set_verify(context, verifyMode(for: mode), nil)
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    /// Mutual TLS always: a server demands and verifies a client certificate, a client
    /// verifies the server's chain against the cluster CA.
    static func verifyMode(for mode: TLSContext.Mode) -> Int32 {
        switch mode {
        case .server: return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
        case .client: return SSL_VERIFY_PEER
        }
    }

    private static func configureProtocol(_ context: OpaquePointer, _ configuration: TLSConfiguration) throws {
        let minimum: Int32
        switch configuration.minimumVersion {
        case .tls12: minimum = flotilla_TLS1_2_VERSION()
        case .tls13: minimum = flotilla_TLS1_3_VERSION()
        }
        guard flotilla_SSL_CTX_set_min_proto_version(context, minimum) == 1 else {
            throw TLSError.setupFailed("minimum protocol version \(configuration.minimumVersion.rawValue)", openSSL: OpenSSLErrorStack.drain())
        }
        _ = SSL_CTX_set_options(context, UInt64(flotilla_SSL_OP_NO_RENEGOTIATION()))
        // No resumption: every connection proves its certificate, and no tickets are sent.
        _ = flotilla_SSL_CTX_set_session_cache_mode(context, 0)
        _ = SSL_CTX_set_num_tickets(context, 0)
        // An idle connection holds no read or write buffer (about 34 KiB each way
        // otherwise): they are taken from the pool when a record comes and given back
        // after it. What a coordinator with 10,000 idle workers mostly holds.
        _ = flotilla_SSL_CTX_set_mode(context, flotilla_SSL_MODE_RELEASE_BUFFERS())
    }

    private static func loadMaterial(_ context: OpaquePointer, _ configuration: TLSConfiguration, mode: TLSContext.Mode) throws {
        OpenSSLErrorStack.clear()
        guard SSL_CTX_use_certificate_chain_file(context, configuration.certificatePath) == 1 else {
            throw TLSError.cannotLoad(.certificateChain, path: configuration.certificatePath, openSSL: OpenSSLErrorStack.drain())
        }
        let key = try readPrivateKey(configuration.privateKeyPath)
        defer { EVP_PKEY_free(key) }
        // Installing a key that is not the certificate's fails here (OpenSSL 3 checks on use).
        guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.keyMismatch(
                certificatePath: configuration.certificatePath, privateKeyPath: configuration.privateKeyPath,
                openSSL: OpenSSLErrorStack.drain())
        }
        guard SSL_CTX_load_verify_locations(context, configuration.trustRootsPath, nil) == 1 else {
            throw TLSError.cannotLoad(.trustRoots, path: configuration.trustRootsPath, openSSL: OpenSSLErrorStack.drain())
        }
        if mode == .server {
            // Named in the CertificateRequest so a client with several certificates picks ours.
            guard let names = SSL_load_client_CA_file(configuration.trustRootsPath) else {
                throw TLSError.cannotLoad(.trustRoots, path: configuration.trustRootsPath, openSSL: OpenSSLErrorStack.drain())
            }
            SSL_CTX_set_client_CA_list(context, names)
        }
    }

    /// Parsed apart from installing it, so an unreadable key and a mismatched one are told apart.
    private static func readPrivateKey(_ path: String) throws -> OpaquePointer {
        OpenSSLErrorStack.clear()
        guard let file = BIO_new_file(path, "r") else {
            throw TLSError.cannotLoad(.privateKey, path: path, openSSL: OpenSSLErrorStack.drain())
        }
        defer { BIO_free(file) }
        guard let key = PEM_read_bio_PrivateKey(file, nil, nil, nil) else {
            throw TLSError.cannotLoad(.privateKey, path: path, openSSL: OpenSSLErrorStack.drain())
        }
        return key
    }
}
