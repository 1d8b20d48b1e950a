import COpenSSL
import Foundation

extension CertificateAuthority {
    /// Checks that `certificatePEM` was signed by this CA and is valid at `date`, the way a
    /// TLS peer trusting only this CA would; throws `PKIError.verificationFailed` with
    /// OpenSSL's reason otherwise.
    public func verify(certificatePEM: String, at date: Date = Date()) throws {
        try Self.verify(certificatePEM: certificatePEM, caCertificatePEM: self.certificatePEM, at: date)
    }

    /// The same check with only the CA's certificate, as a node holding `ca.pem` does.
    public static func verify(certificatePEM: String, caCertificatePEM: String, at date: Date = Date()) throws {
        let caCertificate = try X509Certificate.parse(pem: caCertificatePEM, what: "CA certificate")
        defer { X509_free(caCertificate) }
        let certificate = try X509Certificate.parse(pem: certificatePEM, what: "certificate")
        defer { X509_free(certificate) }
        OpenSSLErrorQueue.clear()
        guard let store = X509_STORE_new() else { throw OpenSSLErrorQueue.failure("allocating a certificate store") }
        defer { X509_STORE_free(store) }
        guard X509_STORE_add_cert(store, caCertificate) == 1 else {
            throw OpenSSLErrorQueue.failure("adding the CA to a certificate store")
        }
        guard let context = X509_STORE_CTX_new() else {
            throw OpenSSLErrorQueue.failure("allocating a verification context")
        }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, certificate, nil) == 1 else {
            throw OpenSSLErrorQueue.failure("initialising certificate verification")
        }
        X509_STORE_CTX_set_time(context, 0, try CertificateTime.timeT(date))
        guard X509_verify_cert(context) == 1 else {
            let reason = String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(context))))
            OpenSSLErrorQueue.clear()
            throw PKIError.verificationFailed(reason: reason)
        }
    }
}
