import FlotillaProto

/// One queued job placed on GPUs of one worker.
public struct Placement: Hashable, Sendable {
    public var jobID: JobID
    public var workerID: WorkerID
    public var gpuIndices: [UInt32]
    /// The model to run: empty for the spec's, else a fallback.
    public var model: String
    /// The fair-share tags of this start, when the policy keeps fair share.
    public var share: ShareTags?

    public struct ShareTags: Hashable, Sendable {
        public var tier: Flotilla_V1_Tier
        public var start: UInt64
        public var finish: UInt64

        public init(tier: Flotilla_V1_Tier, start: UInt64, finish: UInt64) {
            self.tier = tier
            self.start = start
            self.finish = finish
        }
    }

    public init(jobID: JobID, workerID: WorkerID, gpuIndices: [UInt32], model: String = "", share: ShareTags? = nil) {
        self.jobID = jobID
        self.workerID = workerID
        self.gpuIndices = gpuIndices
        self.model = model
        self.share = share
    }
}

/// Chooses where queued jobs run and what to preempt for them. Pure: the
/// planner calls it with the state, the workers that may take work now and
/// the time, and proposes the commands it returns (assignments, checkpoint
/// requests for preemption victims) stamped with that time.
public protocol PlacementPolicy: Sendable {
    func place(_ state: CoordinatorState, on workers: [Worker], now: UInt64) -> [Flotilla_V1_Command]
}
