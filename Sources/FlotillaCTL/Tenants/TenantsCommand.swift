import ArgumentParser

/// `flotillactl tenants`: tenants' quotas and usage; `tenants` alone lists them.
struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "List tenants with their usage, and set their quotas (admin certificate).",
        subcommands: [ListTenants.self, SetTenant.self],
        defaultSubcommand: ListTenants.self)
}
