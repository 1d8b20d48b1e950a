import ArgumentParser
import FlotillaPKI
import Foundation

/// `flotillactl tls cert create`: a node certificate signed by the cluster CA.
struct CreateCertificate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Issue a certificate for a node (cert.pem, key.pem, ca.pem).",
        discussion: """
            The certificate names the node as flotilla://CLUSTER/ROLE/NAME[?region=REGION] \
            (the cluster comes from the CA); a client bound to a tenant is \
            flotilla://CLUSTER/client/NAME?tenant=TENANT and may submit, see and cancel only \
            that tenant's jobs. Roles other than client are also valid for localhost and \
            127.0.0.1 unless --dns or --ip is given.
            """)

    @Option(name: .long, help: "coordinator, worker, router, admin or client.")
    var role: String

    @Option(name: .long, help: "Node name, unique within its role.")
    var name: String

    @Option(name: .long, help: "Region the node serves.")
    var region: String?

    @Option(name: .long, help: "Tenant a client certificate is bound to (client role only).")
    var tenant: String?

    @Option(name: .long, help: "DNS name the node is reached by (repeatable).")
    var dns: [String] = []

    @Option(name: .long, help: "IP address the node is reached by (repeatable).")
    var ip: [String] = []

    @Option(name: .long, help: "Days the certificate is valid.")
    var days: Int = 365

    @Option(name: .customLong("ca-dir"), help: "Directory holding the CA's ca.pem and ca-key.pem.")
    var caDir: String

    @Option(name: .long, help: "Directory to write cert.pem, key.pem and ca.pem into (created if missing).")
    var out: String

    @Flag(name: .long, help: "Replace existing certificate files in --out.")
    var force = false

    func run() throws {
        let nodeRole = try CommandArguments.role(role)
        try CommandArguments.validateComponent(name, kind: "name")
        if let region { try CommandArguments.validateComponent(region, kind: "region") }
        if let tenant { try CommandArguments.validateTenant(tenant, role: nodeRole) }
        try CommandArguments.validateDays(days)
        let authority: CertificateAuthority
        do {
            authority = try CertificateAuthority.load(directory: URL(fileURLWithPath: caDir, isDirectory: true))
        } catch let error as PKIError {
            throw CommandFailure("cannot load the CA from \(caDir): \(error)")
        }
        let identity = NodeIdentity(cluster: authority.cluster, role: nodeRole, name: name, region: region,
                                    tenant: tenant)
        let issued: IssuedCertificate
        do {
            issued = try authority.issue(identity: identity, dnsNames: dns, ipAddresses: ip, validityDays: days)
        } catch PKIError.invalidName(let reason) {
            throw CommandFailure.invalidArgument(reason)
        }
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try issued.write(to: directory, caCertificatePEM: authority.certificatePEM, overwrite: force)
        } catch PKIError.fileExists(let path) {
            throw CommandFailure("\(path) already exists; use --force to replace it")
        }
        let certificateFile = directory.appendingPathComponent(IssuedCertificate.certificateFileName)
        print("==> Certificate for \(identity.uri) saved to: \(certificateFile.path)")
        print("==> Private key saved to: \(directory.appendingPathComponent(IssuedCertificate.privateKeyFileName).path)")
        print("==> CA certificate saved to: \(directory.appendingPathComponent(IssuedCertificate.caCertificateFileName).path)")
    }
}
