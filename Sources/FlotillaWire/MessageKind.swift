import FlotillaProto
import SwiftProtobuf

/// The message a frame carries (header offset 6). Numbered by area: 1-99 handshake and
/// connection, 100s worker, 200s job, 300s admin, 400s consensus, 500s region. Within an
/// area, x00-x49 are messages sent as requests, responses, events or directives, and
/// x50-x99 are records normally nested in those; they have kinds so that logs and
/// snapshots can store them as frames too. Numbers are wire format: never reuse or change one.
public enum MessageKind: UInt16, Sendable, CaseIterable {
    // Handshake and connection (handshake.proto, common.proto)
    case hello = 1
    case helloAck = 2
    case reject = 3
    case error = 4
    case ping = 5
    case pong = 6
    case streamCancel = 7
    case streamEnd = 8
    case ack = 9
    case fencingToken = 50
    case gpu = 51
    case checkpoint = 52
    // Worker <-> coordinator (worker.proto)
    case registerWorkerRequest = 100
    case registerWorkerResponse = 101
    case heartbeatRequest = 102
    case heartbeatResponse = 103
    case subscribeDirectivesRequest = 104
    case workerDirective = 105
    case progressReport = 106
    case checkpointReport = 107
    case attemptResult = 108
    case reportAck = 109
    case drainNotice = 110
    case reportBatch = 111
    case reportBatchAck = 112
    case workerDirectives = 113
    case runningAttempt = 150
    case fencingTokenForJob = 151
    case assignment = 152
    case workerReport = 153
    // Jobs (job.proto)
    case submitJobRequest = 200
    case submitJobResponse = 201
    case getJobRequest = 202
    case getJobResponse = 203
    case listJobsRequest = 204
    case listJobsResponse = 205
    case watchJobRequest = 206
    case jobEvent = 207
    case cancelJobRequest = 208
    case cancelJobResponse = 209
    case submitJobsRequest = 210
    case submitJobsResponse = 211
    case jobSpec = 250
    case attemptInfo = 251
    case job = 252
    case submitJobResult = 253
    // Administration (admin.proto)
    case clusterStatusRequest = 300
    case clusterStatusResponse = 301
    case listWorkersRequest = 302
    case listWorkersResponse = 303
    case drainWorkerRequest = 304
    case drainWorkerResponse = 305
    case listBreakersRequest = 306
    case listBreakersResponse = 307
    case breakerActionRequest = 308
    case breakerActionResponse = 309
    case setTenantRequest = 310
    case setTenantResponse = 311
    case drillRequest = 312
    case drillReport = 313
    case listDrillsRequest = 314
    case listDrillsResponse = 315
    case getDrillRequest = 316
    case raftTransferLeadershipRequest = 317
    case raftTransferLeadershipResponse = 318
    case raftMembershipRequest = 319
    case raftMembershipResponse = 320
    case coordinatorInfo = 350
    case tierQueue = 351
    case workerInfo = 352
    case breakerInfo = 353
    case tenantQuota = 354
    // Consensus between coordinators (consensus.proto)
    // 400-405: the first draft's request/response Raft messages, never sent; not reused.
    /// One-way, delivered to the Raft core in arrival order.
    case raftMessage = 406
    case raftSnapshotChunk = 407
    case raftEntry = 451
    case raftMembership = 452
    case logEntry = 450
    // Regions: routing and metadata replication (region.proto)
    case regionHealthRequest = 500
    case regionHealthResponse = 501
    case listRegionsRequest = 502
    case listRegionsResponse = 503
    case replicateRequest = 504
    case replicateResponse = 505
    case hybridTimestamp = 550
    case metadataEntry = 551

    /// The generated protobuf type of this kind's payload.
    public var messageType: any SwiftProtobuf.Message.Type {
        switch self {
        case .hello: return Flotilla_V1_Hello.self
        case .helloAck: return Flotilla_V1_HelloAck.self
        case .reject: return Flotilla_V1_Reject.self
        case .error: return Flotilla_V1_Error.self
        case .ping: return Flotilla_V1_Ping.self
        case .pong: return Flotilla_V1_Pong.self
        case .streamCancel: return Flotilla_V1_StreamCancel.self
        case .streamEnd: return Flotilla_V1_StreamEnd.self
        case .ack: return Flotilla_V1_Ack.self
        case .fencingToken: return Flotilla_V1_FencingToken.self
        case .gpu: return Flotilla_V1_Gpu.self
        case .checkpoint: return Flotilla_V1_Checkpoint.self
        case .registerWorkerRequest: return Flotilla_V1_RegisterWorkerRequest.self
        case .registerWorkerResponse: return Flotilla_V1_RegisterWorkerResponse.self
        case .heartbeatRequest: return Flotilla_V1_HeartbeatRequest.self
        case .heartbeatResponse: return Flotilla_V1_HeartbeatResponse.self
        case .subscribeDirectivesRequest: return Flotilla_V1_SubscribeDirectivesRequest.self
        case .workerDirective: return Flotilla_V1_WorkerDirective.self
        case .progressReport: return Flotilla_V1_ProgressReport.self
        case .checkpointReport: return Flotilla_V1_CheckpointReport.self
        case .attemptResult: return Flotilla_V1_AttemptResult.self
        case .reportAck: return Flotilla_V1_ReportAck.self
        case .drainNotice: return Flotilla_V1_DrainNotice.self
        case .reportBatch: return Flotilla_V1_ReportBatch.self
        case .reportBatchAck: return Flotilla_V1_ReportBatchAck.self
        case .workerDirectives: return Flotilla_V1_WorkerDirectives.self
        case .workerReport: return Flotilla_V1_WorkerReport.self
        case .runningAttempt: return Flotilla_V1_RunningAttempt.self
        case .fencingTokenForJob: return Flotilla_V1_FencingTokenForJob.self
        case .assignment: return Flotilla_V1_Assignment.self
        case .submitJobRequest: return Flotilla_V1_SubmitJobRequest.self
        case .submitJobResponse: return Flotilla_V1_SubmitJobResponse.self
        case .submitJobsRequest: return Flotilla_V1_SubmitJobsRequest.self
        case .submitJobsResponse: return Flotilla_V1_SubmitJobsResponse.self
        case .submitJobResult: return Flotilla_V1_SubmitJobResult.self
        case .getJobRequest: return Flotilla_V1_GetJobRequest.self
        case .getJobResponse: return Flotilla_V1_GetJobResponse.self
        case .listJobsRequest: return Flotilla_V1_ListJobsRequest.self
        case .listJobsResponse: return Flotilla_V1_ListJobsResponse.self
        case .watchJobRequest: return Flotilla_V1_WatchJobRequest.self
        case .jobEvent: return Flotilla_V1_JobEvent.self
        case .cancelJobRequest: return Flotilla_V1_CancelJobRequest.self
        case .cancelJobResponse: return Flotilla_V1_CancelJobResponse.self
        case .jobSpec: return Flotilla_V1_JobSpec.self
        case .attemptInfo: return Flotilla_V1_AttemptInfo.self
        case .job: return Flotilla_V1_Job.self
        case .clusterStatusRequest: return Flotilla_V1_ClusterStatusRequest.self
        case .clusterStatusResponse: return Flotilla_V1_ClusterStatusResponse.self
        case .listWorkersRequest: return Flotilla_V1_ListWorkersRequest.self
        case .listWorkersResponse: return Flotilla_V1_ListWorkersResponse.self
        case .drainWorkerRequest: return Flotilla_V1_DrainWorkerRequest.self
        case .drainWorkerResponse: return Flotilla_V1_DrainWorkerResponse.self
        case .listBreakersRequest: return Flotilla_V1_ListBreakersRequest.self
        case .listBreakersResponse: return Flotilla_V1_ListBreakersResponse.self
        case .breakerActionRequest: return Flotilla_V1_BreakerActionRequest.self
        case .breakerActionResponse: return Flotilla_V1_BreakerActionResponse.self
        case .setTenantRequest: return Flotilla_V1_SetTenantRequest.self
        case .setTenantResponse: return Flotilla_V1_SetTenantResponse.self
        case .drillRequest: return Flotilla_V1_DrillRequest.self
        case .drillReport: return Flotilla_V1_DrillReport.self
        case .listDrillsRequest: return Flotilla_V1_ListDrillsRequest.self
        case .listDrillsResponse: return Flotilla_V1_ListDrillsResponse.self
        case .getDrillRequest: return Flotilla_V1_GetDrillRequest.self
        case .raftTransferLeadershipRequest: return Flotilla_V1_RaftTransferLeadershipRequest.self
        case .raftTransferLeadershipResponse: return Flotilla_V1_RaftTransferLeadershipResponse.self
        case .raftMembershipRequest: return Flotilla_V1_RaftMembershipRequest.self
        case .raftMembershipResponse: return Flotilla_V1_RaftMembershipResponse.self
        case .coordinatorInfo: return Flotilla_V1_CoordinatorInfo.self
        case .tierQueue: return Flotilla_V1_TierQueue.self
        case .workerInfo: return Flotilla_V1_WorkerInfo.self
        case .breakerInfo: return Flotilla_V1_BreakerInfo.self
        case .tenantQuota: return Flotilla_V1_TenantQuota.self
        case .raftMessage: return Flotilla_V1_RaftMessage.self
        case .raftSnapshotChunk: return Flotilla_V1_RaftSnapshotChunk.self
        case .raftEntry: return Flotilla_V1_RaftEntry.self
        case .raftMembership: return Flotilla_V1_RaftMembership.self
        case .logEntry: return Flotilla_V1_LogEntry.self
        case .regionHealthRequest: return Flotilla_V1_RegionHealthRequest.self
        case .regionHealthResponse: return Flotilla_V1_RegionHealthResponse.self
        case .listRegionsRequest: return Flotilla_V1_ListRegionsRequest.self
        case .listRegionsResponse: return Flotilla_V1_ListRegionsResponse.self
        case .replicateRequest: return Flotilla_V1_ReplicateRequest.self
        case .replicateResponse: return Flotilla_V1_ReplicateResponse.self
        case .hybridTimestamp: return Flotilla_V1_HybridTimestamp.self
        case .metadataEntry: return Flotilla_V1_MetadataEntry.self
        }
    }

    /// The kind of `message`, or nil for a type that is not a Flotilla wire message.
    public static func of(_ message: any SwiftProtobuf.Message) -> MessageKind? {
        byType[ObjectIdentifier(type(of: message))]
    }

    /// The kind of messages of `type`, or nil for a type that is not a Flotilla wire message.
    public static func of(_ type: any SwiftProtobuf.Message.Type) -> MessageKind? {
        byType[ObjectIdentifier(type)]
    }

    private static let byType: [ObjectIdentifier: MessageKind] = Dictionary(
        uniqueKeysWithValues: allCases.map { (ObjectIdentifier($0.messageType), $0) })
}
