import FlotillaPKI
import Foundation

/// Who a process's own certificate must say it is. Checked when the material is loaded and
/// on every reload, so a coordinator given a worker's certificate, or another cluster's,
/// refuses to start (or to rotate) instead of serving and having every peer refuse it.
public struct OwnIdentity: Sendable, Hashable {
    public var cluster: String
    /// Any of these roles (flotillactl may hold an admin or a client certificate).
    public var roles: Set<NodeRole>
    /// The node name the certificate must carry; nil accepts any.
    public var name: String?

    public init(cluster: String, roles: Set<NodeRole>, name: String? = nil) {
        self.cluster = cluster
        self.roles = roles
        self.name = name
    }

    public init(cluster: String, role: NodeRole, name: String? = nil) {
        self.init(cluster: cluster, roles: [role], name: name)
    }

    /// The certificate in `configuration`, checked against this identity, its CA and the
    /// clock. Throws `TLSError.wrongIdentity` naming the file and what is wrong.
    public func check(_ configuration: TLSConfiguration, at now: Date = Date()) throws -> CertificateInfo {
        let path = configuration.certificatePath
        let info: CertificateInfo
        let pem: String
        let caPEM: String
        do {
            pem = try String(contentsOfFile: path, encoding: .utf8)
            caPEM = try String(contentsOfFile: configuration.trustRootsPath, encoding: .utf8)
            info = try CertificateInfo(pem: pem)
        } catch {
            throw TLSError.cannotLoad(.certificateChain, path: path, openSSL: ["\(error)"])
        }
        func wrong(_ reason: String) -> TLSError { .wrongIdentity(certificatePath: path, reason: reason) }
        guard let identity = info.identity else {
            throw wrong("it carries no single flotilla:// identity (URI SANs: \(info.uris))")
        }
        guard roles.contains(identity.role) else {
            let wanted = roles.map(\.rawValue).sorted().joined(separator: " or ")
            throw wrong("it is a \(identity.role.rawValue) certificate (\(identity.uri)); this program needs \(wanted)")
        }
        guard identity.cluster == cluster else {
            throw wrong("it is for cluster \"\(identity.cluster)\" (\(identity.uri)); this node is in cluster \"\(cluster)\"")
        }
        if let name, identity.name != name {
            throw wrong("it names node \"\(identity.name)\" (\(identity.uri)); this node is configured as \"\(name)\"")
        }
        guard now >= info.notBefore else { throw wrong("it is not valid before \(info.notBefore)") }
        guard now <= info.notAfter else { throw wrong("it expired at \(info.notAfter)") }
        // The trust file may hold several CAs (during a CA rotation): any one will do.
        var failure: (any Error)?
        for ca in Self.certificates(in: caPEM) {
            do {
                try CertificateAuthority.verify(certificatePEM: pem, caCertificatePEM: ca, at: now)
                return info
            } catch {
                failure = error
            }
        }
        throw wrong("it is not signed by a CA in \(configuration.trustRootsPath): \(failure.map { "\($0)" } ?? "no CA found")")
    }

    /// Each PEM certificate block of a bundle.
    static func certificates(in bundle: String) -> [String] {
        let end = "-----END CERTIFICATE-----"
        return bundle.components(separatedBy: end).dropLast()
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) + "\n" + end + "\n" }
    }
}
