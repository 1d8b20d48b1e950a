import ArgumentParser
import FlotillaPKI
import Foundation

/// `flotillactl tls cert show`: what a certificate says, for people or (`--json`) scripts.
struct ShowCertificate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a certificate's identity, names and validity.")

    @Argument(help: "PEM certificate file.")
    var file: String

    @Option(name: .long, help: "Also verify the certificate against this CA certificate file.")
    var ca: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let pem = try Self.read(file)
        let info = try CertificateInfo(pem: pem)
        var verification: String?
        if let ca {
            do {
                try CertificateAuthority.verify(certificatePEM: pem, caCertificatePEM: try Self.read(ca))
                verification = "ok"
            } catch PKIError.verificationFailed(let reason) {
                verification = reason
            }
        }
        let summary = CertificateSummary(info: info, verification: verification)
        print(json ? try summary.json() : summary.text())
        if let verification, verification != "ok" {
            throw CommandFailure("\(file) does not verify against \(ca ?? ""): \(verification)")
        }
    }

    private static func read(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("\(path) does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("\(path) cannot be read") }
        return String(decoding: data, as: UTF8.self)
    }
}
