import COpenSSL

/// ECDSA P-256 keys as owned `EVP_PKEY` pointers; callers free them with `EVP_PKEY_free`.
enum PrivateKey {
    static func generateP256() throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw OpenSSLErrorQueue.failure("creating an EC key context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1 else {
            throw OpenSSLErrorQueue.failure("initialising P-256 key generation")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else {
            throw OpenSSLErrorQueue.failure("generating a P-256 key")
        }
        return key
    }

    /// PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted: file modes protect it.
    static func pem(_ key: OpaquePointer) throws -> String {
        OpenSSLErrorQueue.clear()
        return try MemoryBIO.writing("encoding a private key") { bio in
            PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1
        }
    }

    static func parse(pem: String, what: String) throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        let key = try MemoryBIO.reading(pem) { bio in PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
        guard let key else { throw PKIError.invalidPEM(what: what, openSSL: OpenSSLErrorQueue.drain()) }
        return key
    }
}
