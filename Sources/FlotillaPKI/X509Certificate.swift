import COpenSSL

/// PEM encoding and decoding of owned `X509` pointers; callers free them with `X509_free`.
enum X509Certificate {
    static func parse(pem: String, what: String) throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        let certificate = try MemoryBIO.reading(pem) { bio in PEM_read_bio_X509(bio, nil, nil, nil) }
        guard let certificate else { throw PKIError.invalidPEM(what: what, openSSL: OpenSSLErrorQueue.drain()) }
        return certificate
    }

    static func parse(der: [UInt8], what: String) throws -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        let certificate = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let certificate else { throw PKIError.invalidDER(what: what, openSSL: OpenSSLErrorQueue.drain()) }
        return certificate
    }

    static func pem(_ certificate: OpaquePointer) throws -> String {
        OpenSSLErrorQueue.clear()
        return try MemoryBIO.writing("encoding a certificate") { bio in
            PEM_write_bio_X509(bio, certificate) == 1
        }
    }

    /// Fails unless `key` is the private half of `certificate`'s public key.
    static func checkKey(_ key: OpaquePointer, matches certificate: OpaquePointer, what: String) throws {
        OpenSSLErrorQueue.clear()
        guard X509_check_private_key(certificate, key) == 1 else {
            OpenSSLErrorQueue.clear()
            throw PKIError.keyMismatch(what: what)
        }
    }
}
