import COpenSSL
import Foundation

/// Turns a template into a signed X.509v3 certificate (SHA-256, random 128-bit serial).
enum CertificateSigner {
    /// Returns an owned `X509` (free with `X509_free`). With `issuer` nil the certificate is
    /// self-signed and `signingKey` must be the subject's key.
    static func sign(
        _ template: CertificateTemplate, subjectKey: OpaquePointer, issuer: OpaquePointer?,
        signingKey: OpaquePointer
    ) throws -> OpaquePointer {
        guard template.notAfter > template.notBefore else {
            throw PKIError.invalidValidity("notAfter \(template.notAfter) is not after notBefore \(template.notBefore)")
        }
        OpenSSLErrorQueue.clear()
        guard let certificate = X509_new() else { throw OpenSSLErrorQueue.failure("allocating a certificate") }
        do {
            guard X509_set_version(certificate, Int(X509_VERSION_3)) == 1 else {
                throw OpenSSLErrorQueue.failure("setting the certificate version")
            }
            try setRandomSerial(certificate)
            try setSubject(template.subject, on: certificate)
            let issuerName = issuer.map { X509_get_subject_name($0) } ?? X509_get_subject_name(certificate)
            guard X509_set_issuer_name(certificate, issuerName) == 1 else {
                throw OpenSSLErrorQueue.failure("setting the issuer name")
            }
            let notBefore = try CertificateTime.timeT(template.notBefore)
            let notAfter = try CertificateTime.timeT(template.notAfter)
            guard ASN1_TIME_set(X509_getm_notBefore(certificate), notBefore) != nil,
                ASN1_TIME_set(X509_getm_notAfter(certificate), notAfter) != nil
            else { throw OpenSSLErrorQueue.failure("setting the validity period") }
            guard X509_set_pubkey(certificate, subjectKey) == 1 else {
                throw OpenSSLErrorQueue.failure("setting the public key")
            }
            try addExtensions(template.extensions, to: certificate, issuer: issuer ?? certificate)
            guard X509_sign(certificate, signingKey, EVP_sha256()) > 0 else {
                throw OpenSSLErrorQueue.failure("signing the certificate")
            }
            return certificate
        } catch {
            X509_free(certificate)
            throw error
        }
    }

    private static func setRandomSerial(_ certificate: OpaquePointer) throws {
        guard let number = BN_new() else { throw OpenSSLErrorQueue.failure("allocating a serial number") }
        defer { BN_free(number) }
        repeat {
            guard BN_rand(number, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 else {
                throw OpenSSLErrorQueue.failure("generating a serial number")
            }
        } while BN_is_zero(number) == 1
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil else {
            throw OpenSSLErrorQueue.failure("setting the serial number")
        }
    }

    private static func setSubject(_ entries: [CertificateTemplate.NameEntry], on certificate: OpaquePointer) throws {
        guard let name = X509_NAME_new() else { throw OpenSSLErrorQueue.failure("allocating a subject name") }
        defer { X509_NAME_free(name) }
        for entry in entries {
            let added = Array(entry.value.utf8).withUnsafeBufferPointer { bytes in
                X509_NAME_add_entry_by_txt(name, entry.field, MBSTRING_UTF8, bytes.baseAddress, Int32(bytes.count), -1, 0)
            }
            guard added == 1 else { throw OpenSSLErrorQueue.failure("adding \(entry.field) to the subject") }
        }
        guard X509_set_subject_name(certificate, name) == 1 else {
            throw OpenSSLErrorQueue.failure("setting the subject name")
        }
    }

    private static func addExtensions(
        _ extensions: [CertificateTemplate.Extension], to certificate: OpaquePointer, issuer: OpaquePointer
    ) throws {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer, certificate, nil, nil, 0)
        for item in extensions {
            guard let created = X509V3_EXT_conf_nid(nil, &context, item.nid, item.value) else {
                throw OpenSSLErrorQueue.failure("building extension \(String(cString: OBJ_nid2sn(item.nid))) '\(item.value)'")
            }
            defer { X509_EXTENSION_free(created) }
            guard X509_add_ext(certificate, created, -1) == 1 else {
                throw OpenSSLErrorQueue.failure("adding extension \(String(cString: OBJ_nid2sn(item.nid)))")
            }
        }
    }
}
