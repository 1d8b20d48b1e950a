/// The largest payload a request of each kind may carry, decompressed (PROTOCOL.md §7.3).
/// Checked from the 16-byte header and the compressed payload's recorded size, before
/// anything is allocated or decompressed, and before protobuf decoding can multiply it:
/// 64 KiB of packed enum values decode into a million-element array, 16 MiB into 266 MB.
/// Answers, streams and records keep the frame maximum.
extension MessageKind {
    public var maxRequestPayload: Int {
        switch self {
        // Queries and commands with a handful of scalar fields.
        case .hello, .ping, .streamCancel, .getJobRequest, .listJobsRequest, .watchJobRequest, .cancelJobRequest,
             .clusterStatusRequest, .listWorkersRequest, .drainWorkerRequest, .listBreakersRequest,
             .breakerActionRequest, .setTenantRequest, .drillRequest, .listDrillsRequest, .getDrillRequest, .subscribeDirectivesRequest,
             .raftTransferLeadershipRequest, .raftMembershipRequest, .drainNotice,
             .progressReport, .checkpointReport:
            return 8 << 10
        // A result carries at most 8 KiB of error text; a heartbeat lists up to 256 attempts.
        case .attemptResult, .heartbeatRequest:
            return 64 << 10
        // A job spec's params (64 × 4 KiB) and labels; a registration's GPUs, models, labels.
        case .submitJobRequest, .registerWorkerRequest:
            return 1 << 20
        // Up to 1,000 specs (`repeatedLimit`), a few hundred bytes each in practice.
        case .submitJobsRequest:
            return 2 << 20
        // Up to 64 reports (`repeatedLimit`); a result carries at most 8 KiB of error text.
        case .reportBatch:
            return 1 << 20
        // Consensus and region replication carry log entries and snapshots.
        default:
            return 16 << 20
        }
    }
}

extension WireConfiguration {
    /// The limit for a frame's payload: the kind's request limit for requests and one-way
    /// messages when `limitsRequestsByKind`, else the frame maximum.
    public func payloadLimit(for kind: MessageKind, flags: FrameFlags) -> Int {
        guard limitsRequestsByKind, !flags.contains(.response) else { return maxFrameBytes }
        return min(maxFrameBytes, kind.maxRequestPayload)
    }
}
