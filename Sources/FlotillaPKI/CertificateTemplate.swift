import Foundation

/// What goes into a certificate before it is signed: subject, validity and X.509v3
/// extensions in OpenSSL's configuration syntax (e.g. "critical,CA:TRUE").
struct CertificateTemplate {
    struct NameEntry {
        var field: String
        var value: String
    }

    struct Extension {
        var nid: Int32
        var value: String
    }

    var subject: [NameEntry]
    var notBefore: Date
    var notAfter: Date
    /// Applied in order: the subject key identifier must precede the authority key identifier
    /// of a self-signed certificate, which is computed from it.
    var extensions: [Extension]
}
