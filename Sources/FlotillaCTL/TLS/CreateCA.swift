import ArgumentParser
import FlotillaPKI
import Foundation

/// `flotillactl tls ca create`: a new self-signed cluster CA in a directory.
struct CreateCA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a cluster certificate authority (ca.pem, ca-key.pem).")

    @Option(name: .long, help: "Directory to write ca.pem and ca-key.pem into (created if missing).")
    var dir: String

    @Option(name: .long, help: "Cluster name, recorded in the CA and every certificate it issues.")
    var cluster: String = "flotilla"

    @Option(name: .long, help: "Days the CA is valid.")
    var days: Int = 3650

    @Flag(name: .long, help: "Replace an existing CA (certificates it signed stop being trusted).")
    var force = false

    func run() throws {
        try CommandArguments.validateComponent(cluster, kind: "cluster name")
        try CommandArguments.validateDays(days)
        let directory = URL(fileURLWithPath: dir, isDirectory: true)
        let authority = try CertificateAuthority.generate(cluster: cluster, validityDays: days)
        do {
            try authority.write(to: directory, overwrite: force)
        } catch PKIError.fileExists(let path) {
            throw CommandFailure(
                "\(path) already exists; use --force to replace the CA (certificates it signed will no longer be trusted)")
        }
        let info = try CertificateInfo(pem: authority.certificatePEM)
        print("==> CA certificate saved to: \(directory.appendingPathComponent(CertificateAuthority.certificateFileName).path)")
        print("==> CA private key saved to: \(directory.appendingPathComponent(CertificateAuthority.privateKeyFileName).path)")
        print("    cluster \(authority.cluster), valid until \(CertificateText.timestamp(info.notAfter))")
    }
}
