import FlotillaProto

/// The directives the state machine asks the leader to send to workers.
extension Flotilla_V1_WorkerDirective {
    static func assigning(_ assignment: Flotilla_V1_Assignment) -> Self {
        var directive = Self()
        directive.assign = assignment
        return directive
    }

    /// Stop at once (cancelled or superseded). `grace_ms` 0: the shell's default.
    static func stopping(_ jobID: JobID, _ token: FencingToken) -> Self {
        var directive = Self()
        directive.stop = .init(jobID, token)
        return directive
    }

    static func checkpointing(_ jobID: JobID, _ token: FencingToken, graceMs: UInt32) -> Self {
        var directive = Self()
        directive.checkpoint = .init(jobID, token)
        directive.graceMs = graceMs
        return directive
    }

    static var draining: Self {
        var directive = Self()
        directive.drain = Flotilla_V1_Ack()
        return directive
    }
}

extension Flotilla_V1_FencingTokenForJob {
    init(_ jobID: JobID, _ token: FencingToken) {
        self.init()
        self.jobID = jobID.rawValue
        self.token = token.proto
    }
}
