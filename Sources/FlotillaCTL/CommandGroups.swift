import ArgumentParser

extension Flotillactl {
    /// The top-level groups of `flotillactl`, in help order: add a new group here.
    static let commandGroups: [any ParsableCommand.Type] = [
        StatusCommand.self,
        WorkersCommand.self,
        JobsCommand.self,
        BreakersCommand.self,
        TenantsCommand.self,
        DrillCommand.self,
        OperatorCommand.self,
        TLSCommand.self,
    ]
}
