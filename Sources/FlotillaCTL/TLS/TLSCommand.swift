import ArgumentParser

/// `flotillactl tls`: the cluster CA and node certificates for mutual TLS.
struct TLSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Create the cluster CA and node certificates for mutual TLS.",
        subcommands: [CACommand.self, CertificateCommand.self])

    struct CACommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca", abstract: "Manage the cluster certificate authority.",
            subcommands: [CreateCA.self])
    }

    struct CertificateCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cert", abstract: "Issue and inspect node certificates.",
            subcommands: [CreateCertificate.self, ShowCertificate.self])
    }
}
