import COpenSSL
import COpenSSLShim
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a certificate says, read back from PEM: who it names, where it may be reached and
/// when it is valid. Used by tests and `flotillactl tls cert show`.
public struct CertificateInfo: Sendable, Hashable {
    /// The subject as "CN=..., O=...", in certificate order.
    public let subject: String
    public let issuer: String
    public let commonName: String?
    public let organization: String?
    /// Every URI subject alternative name, Flotilla identity or not.
    public let uris: [String]
    public let dnsNames: [String]
    public let ipAddresses: [String]
    public let notBefore: Date
    public let notAfter: Date
    /// Upper-case hexadecimal.
    public let serialNumber: String
    /// "AB:CD:..." over the DER encoding, as `openssl x509 -fingerprint -sha256` prints it.
    public let sha256Fingerprint: String
    /// basicConstraints CA:TRUE.
    public let isCertificateAuthority: Bool

    /// The Flotilla identities among the URI SANs (a node certificate carries exactly one).
    public var identities: [NodeIdentity] { uris.compactMap(NodeIdentity.init(uri:)) }

    /// The certificate's Flotilla identity; nil unless exactly one URI SAN is one.
    public var identity: NodeIdentity? {
        let found = identities
        return found.count == 1 ? found[0] : nil
    }

    public func isValid(at date: Date = Date()) -> Bool {
        date >= notBefore && date <= notAfter
    }

    /// Parses the first certificate in `pem`.
    public init(pem: String) throws {
        let certificate = try X509Certificate.parse(pem: pem, what: "certificate")
        defer { X509_free(certificate) }
        try self.init(certificate: certificate)
    }

    /// Parses a DER certificate, e.g. one taken from a TLS handshake with `i2d_X509`.
    public init(der: [UInt8]) throws {
        let certificate = try X509Certificate.parse(der: der, what: "certificate")
        defer { X509_free(certificate) }
        try self.init(certificate: certificate)
    }

    /// Reads and parses a PEM certificate file.
    public init(contentsOf file: URL) throws {
        try self.init(pem: PEMFile.read(file))
    }

    init(certificate: OpaquePointer) throws {
        OpenSSLErrorQueue.clear()
        let subjectName = X509_get_subject_name(certificate)
        subject = Self.describe(subjectName)
        issuer = Self.describe(X509_get_issuer_name(certificate))
        commonName = Self.firstEntry(subjectName, nid: NID_commonName)
        organization = Self.firstEntry(subjectName, nid: NID_organizationName)
        guard let notBefore = Self.date(X509_get0_notBefore(certificate)),
            let notAfter = Self.date(X509_get0_notAfter(certificate))
        else { throw OpenSSLErrorQueue.failure("reading the validity period") }
        self.notBefore = notBefore
        self.notAfter = notAfter
        serialNumber = try Self.serial(certificate)
        sha256Fingerprint = try Self.fingerprint(certificate)
        isCertificateAuthority = X509_get_extension_flags(certificate) & UInt32(EXFLAG_CA) != 0
        let names = Self.alternativeNames(certificate)
        uris = names.uris
        dnsNames = names.dnsNames
        ipAddresses = names.ipAddresses
        OpenSSLErrorQueue.clear()
    }

    private static func describe(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        return (0..<X509_NAME_entry_count(name)).compactMap { index -> String? in
            guard let entry = X509_NAME_get_entry(name, index) else { return nil }
            let nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))
            let field = OBJ_nid2sn(nid).map { String(cString: $0) } ?? "?"
            return "\(field)=\(utf8(UnsafePointer(X509_NAME_ENTRY_get_data(entry))) ?? "")"
        }.joined(separator: ", ")
    }

    private static func firstEntry(_ name: OpaquePointer?, nid: Int32) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index) else { return nil }
        return utf8(UnsafePointer(X509_NAME_ENTRY_get_data(entry)))
    }

    private static func utf8(_ string: UnsafePointer<ASN1_STRING>?) -> String? {
        guard let string else { return nil }
        var output: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&output, string)
        guard length >= 0, let output else { return nil }
        defer { flotilla_OPENSSL_free(output) }
        return String(decoding: UnsafeBufferPointer(start: output, count: Int(length)), as: UTF8.self)
    }

    private static func bytes(_ string: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    private static func serial(_ certificate: OpaquePointer) throws -> String {
        guard let number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nil) else {
            throw OpenSSLErrorQueue.failure("reading the serial number")
        }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { throw OpenSSLErrorQueue.failure("reading the serial number") }
        defer { flotilla_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    private static func fingerprint(_ certificate: OpaquePointer) throws -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else {
            throw OpenSSLErrorQueue.failure("computing the certificate fingerprint")
        }
        return digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    private static func alternativeNames(_ certificate: OpaquePointer) -> (
        uris: [String], dnsNames: [String], ipAddresses: [String]
    ) {
        var result: (uris: [String], dnsNames: [String], ipAddresses: [String]) = ([], [], [])
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return result }
        let names = OpaquePointer(raw)
        defer { flotilla_GENERAL_NAMES_free(names) }
        for index in 0..<flotilla_sk_GENERAL_NAME_num(names) {
            guard let name = flotilla_sk_GENERAL_NAME_value(names, index)?.pointee else { continue }
            switch name.type {
            case GEN_URI:
                if let text = utf8(UnsafePointer(name.d.uniformResourceIdentifier)) { result.uris.append(text) }
            case GEN_DNS:
                if let text = utf8(UnsafePointer(name.d.dNSName)) { result.dnsNames.append(text) }
            case GEN_IPADD:
                if let text = ipAddress(bytes(UnsafePointer(name.d.iPAddress))) { result.ipAddresses.append(text) }
            default:
                continue
            }
        }
        return result
    }

    private static func ipAddress(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let text = buffer.withUnsafeMutableBufferPointer { output -> String? in
            guard inet_ntop(family, bytes, output.baseAddress, socklen_t(output.count)) != nil else { return nil }
            return String(cString: output.baseAddress!)
        }
        return text
    }
}
