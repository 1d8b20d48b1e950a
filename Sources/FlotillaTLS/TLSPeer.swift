import COpenSSL
import FlotillaPKI
import Foundation

/// The other end of a completed handshake, as its verified certificate describes it.
public struct TLSPeer: Sendable, Hashable {
    /// The Flotilla identity in the certificate's URI SAN; nil unless exactly one is there.
    public var identity: NodeIdentity?
    /// The certificate subject, e.g. "CN=worker-1, O=prod".
    public var subject: String
    public var notAfter: Date
    /// The negotiated protocol, e.g. "TLSv1.3".
    public var protocolVersion: String

    public init(identity: NodeIdentity?, subject: String, notAfter: Date, protocolVersion: String) {
        self.identity = identity
        self.subject = subject
        self.notAfter = notAfter
        self.protocolVersion = protocolVersion
    }
}

/// What `TLSHandler` tells the handlers above it through `userInboundEventTriggered`.
public enum TLSEvent: Sendable, Hashable {
    /// Sent once, before any plaintext is read: the peer's chain verified against the CA.
    case handshakeCompleted(TLSPeer)
}

extension TLSPeer {
    /// Reads the peer certificate through FlotillaPKI's parser, so both sides of Flotilla
    /// agree on what a certificate says.
    init(verifiedPeerOf ssl: OpaquePointer) throws(TLSError) {
        guard let certificate = SSL_get1_peer_certificate(ssl) else {
            throw .handshakeFailed(openSSL: ["the peer presented no certificate"])
        }
        defer { X509_free(certificate) }
        let info: CertificateInfo
        do {
            info = try CertificateInfo(pem: try Self.pem(certificate))
        } catch {
            throw .handshakeFailed(openSSL: ["unreadable peer certificate: \(error)"])
        }
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? "unknown"
        self.init(identity: info.identity, subject: info.subject, notAfter: info.notAfter, protocolVersion: version)
    }

    private static func pem(_ certificate: OpaquePointer) throws(TLSError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw .setupFailed("BIO_new", openSSL: OpenSSLErrorStack.drain())
        }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, certificate) == 1 else {
            throw .handshakeFailed(openSSL: OpenSSLErrorStack.drain())
        }
        let length = Int(BIO_ctrl_pending(bio))
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            count = max(Int(BIO_read(bio, buffer.baseAddress, Int32(clamping: length))), 0)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
