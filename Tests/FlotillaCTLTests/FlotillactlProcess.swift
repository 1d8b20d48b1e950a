import FlotillaTestSupport
import Foundation
import Testing

/// Runs the `flotillactl` built alongside this test bundle; `environment` nil inherits this process's.
func flotillactl(_ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
    let binary = productURL("flotillactl")
    try #require(
        FileManager.default.isExecutableFile(atPath: binary.path),
        "flotillactl is not built at \(binary.path); run `swift build` first")
    return try await runProcess(binary, arguments: arguments, environment: environment, timeout: .seconds(60))
}

func openssl(_ arguments: [String]) async throws -> ProcessResult {
    let tool = try #require(executableOnPath("openssl"), "the openssl command-line tool is needed")
    return try await runProcess(tool, arguments: arguments, timeout: .seconds(30))
}

func permissions(_ url: URL) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// `tls cert show --json`, as scripts read it.
struct CertificateJSON: Decodable {
    var identity: String?
    var cluster: String?
    var role: String?
    var name: String?
    var region: String?
    var tenant: String?
    var subject: String
    var validity: String
    var isCertificateAuthority: Bool
    var dnsNames: [String]
    var ipAddresses: [String]
    var verification: String?
}
