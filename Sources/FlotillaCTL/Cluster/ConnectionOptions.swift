import ArgumentParser
import FlotillaTransport
import Foundation

/// Where the cluster is and which certificate to present: shared by every command that
/// talks to a coordinator. A flag wins over its environment variable, which wins over
/// the default, so `source env.sh` once and then plain `flotillactl jobs list` works.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Coordinator addresses, host:port, comma-separated (env FLOTILLA_ADDR; default \(Self.defaultAddress)).",
        valueName: "addresses"))
    var addr: String?

    @Option(name: .long, help: ArgumentHelp("Cluster CA certificate, PEM (env FLOTILLA_CACERT).", valueName: "file"))
    var cacert: String?

    @Option(name: .long, help: ArgumentHelp("Client certificate, PEM (env FLOTILLA_CLIENT_CERT).", valueName: "file"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("Client private key, PEM (env FLOTILLA_CLIENT_KEY).", valueName: "file"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each answer (and, in all, to connect).", valueName: "seconds"))
    var timeout: Double = 10

    static let defaultAddress = "127.0.0.1:7400"

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    /// The settings after flags, environment and defaults are merged and checked.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConnectionSettings {
        let addressText = Self.pick(addr, environment["FLOTILLA_ADDR"]) ?? Self.defaultAddress
        guard let endpoints = Endpoint.list(addressText) else {
            throw CommandFailure.invalidArgument(
                "invalid coordinator address '\(addressText)' (--addr or FLOTILLA_ADDR): expected host:port[,host:port...]")
        }
        return ConnectionSettings(
            endpoints: endpoints,
            caCertificate: try Self.file(cacert, environment, variable: "FLOTILLA_CACERT", flag: "--cacert", what: "cluster CA certificate"),
            certificate: try Self.file(cert, environment, variable: "FLOTILLA_CLIENT_CERT", flag: "--cert", what: "client certificate"),
            privateKey: try Self.file(key, environment, variable: "FLOTILLA_CLIENT_KEY", flag: "--key", what: "client private key"),
            timeout: timeout)
    }

    /// An empty flag or variable counts as unset, as shells make `FLOTILLA_ADDR=` easy to leave behind.
    private static func pick(_ flag: String?, _ variable: String?) -> String? {
        if let flag, !flag.isEmpty { return flag }
        if let variable, !variable.isEmpty { return variable }
        return nil
    }

    private static func file(
        _ flag: String?, _ environment: [String: String], variable: String, flag flagName: String, what: String
    ) throws -> String {
        guard let path = pick(flag, environment[variable]) else {
            throw CommandFailure.invalidArgument("no \(what): pass \(flagName) FILE or set \(variable)")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("the \(what) \(path) (\(flagName) or \(variable)) does not exist")
        }
        return path
    }
}

/// Resolved connection settings: addresses and the TLS files, all present.
struct ConnectionSettings: Sendable {
    var endpoints: [Endpoint]
    var caCertificate: String
    var certificate: String
    var privateKey: String
    /// Seconds per answer.
    var timeout: Double

    /// "127.0.0.1:7400" or "a:7400, b:7400", as messages name the cluster.
    var addressList: String { endpoints.map(\.description).joined(separator: ", ") }
}
