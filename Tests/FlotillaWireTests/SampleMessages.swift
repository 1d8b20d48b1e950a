import FlotillaProto
import FlotillaWire
import Foundation
import SwiftProtobuf

/// A populated message of every kind, so round trips exercise real field encodings
/// (strings, varints, enums, maps, nested and repeated messages, oneofs, bytes).
enum SampleMessages {
    static let token = Flotilla_V1_FencingToken.with {
        $0.term = 3
        $0.attempt = 2
    }
    static let gpu = Flotilla_V1_Gpu.with {
        $0.index = 1
        $0.type = "H100"
        $0.memoryMib = 81_559
        $0.uuid = "GPU-5f1c"
    }
    static let checkpoint = Flotilla_V1_Checkpoint.with {
        $0.jobID = "job-000123"
        $0.attempt = 2
        $0.step = 30
        $0.uri = "s3://ckpt/job-000123/30"
        $0.sha256Hex = String(repeating: "ab", count: 32)
        $0.sizeBytes = 1 << 30
        $0.createdUnixMs = 1_700_000_000_000
    }
    static let running = Flotilla_V1_RunningAttempt.with {
        $0.jobID = "job-000123"
        $0.token = token
        $0.step = 30
        $0.totalSteps = 50
        $0.state = .running
    }
    static let tokenForJob = Flotilla_V1_FencingTokenForJob.with {
        $0.jobID = "job-000123"
        $0.token = token
    }
    static let assignment = Flotilla_V1_Assignment.with {
        $0.jobID = "job-000123"
        $0.token = token
        $0.model = "mochi-1"
        $0.gpuCount = 2
        $0.gpuIndices = [0, 1]
        $0.params = ["prompt": "a red fox", "seed": "7"]
        $0.steps = 50
        $0.resumeFrom = checkpoint
        $0.checkpointEvery = 10
    }
    static let spec = Flotilla_V1_JobSpec.with {
        $0.model = "mochi-1"
        $0.gpuCount = 2
        $0.gpuType = "H100"
        $0.tier = .premium
        $0.tenant = "acme"
        $0.params = ["prompt": "a red fox", "seed": "7"]
        $0.steps = 50
        $0.maxAttempts = 3
        $0.idempotencyKey = "acme-42"
        $0.fallbackAllowed = true
        $0.regionHint = "eu-west"
        $0.labels = ["pool": "a"]
    }
    static let attemptInfo = Flotilla_V1_AttemptInfo.with {
        $0.number = 2
        $0.token = token
        $0.workerID = "worker-7"
        $0.state = .lost
        $0.startedUnixMs = 1_700_000_000_000
        $0.endedUnixMs = 1_700_000_060_000
        $0.resumedFromStep = 20
        $0.error = "worker lost"
    }
    static let submitJobResult = Flotilla_V1_SubmitJobResult.with {
        $0.jobID = "job-000124"
        $0.state = .queued
        $0.duplicate = true
        $0.error = Flotilla_V1_Error.with {
            $0.code = .resourceExhausted
            $0.message = "tenant acme has 10 jobs queued"
            $0.retryAfterMs = 500
        }
    }

    static let job = Flotilla_V1_Job.with {
        $0.id = "job-000123"
        $0.spec = spec
        $0.state = .running
        $0.submittedUnixMs = 1_700_000_000_000
        $0.updatedUnixMs = 1_700_000_030_000
        $0.step = 30
        $0.totalSteps = 50
        $0.attempts = [attemptInfo]
        $0.latestCheckpoint = checkpoint
        $0.modelUsed = "open-sora"
        $0.region = "us-east"
        $0.fallbackUsed = true
    }
    static let workerInfo = Flotilla_V1_WorkerInfo.with {
        $0.id = "w-1"
        $0.name = "worker-7"
        $0.state = .ready
        $0.gpus = [gpu]
        $0.gpusAllocated = 1
        $0.models = ["mochi-1"]
        $0.labels = ["pool": "a"]
        $0.lastHeartbeatUnixMs = 1_700_000_000_000
        $0.running = [running]
        $0.address = "10.0.0.7:7401"
    }
    static let breaker = Flotilla_V1_BreakerInfo.with {
        $0.model = "mochi-1"
        $0.state = .halfOpen
        $0.recentFailures = 5
        $0.nextTransitionMs = 30_000
        $0.probesInFlight = 1
        $0.fallbackChain = ["open-sora"]
    }
    static let tenant = Flotilla_V1_TenantQuota.with {
        $0.tenant = "acme"
        $0.maxGpus = 16
        $0.maxQueuedJobs = 100
        $0.homeRegion = "us-east"
        $0.defaultTier = .standard
    }
    static let coordinator = Flotilla_V1_CoordinatorInfo.with {
        $0.name = "coord-1"
        $0.address = "10.0.0.2:7400"
        $0.state = .leader
        $0.term = 3
        $0.commitIndex = 1_042
    }
    static let queue = Flotilla_V1_TierQueue.with {
        $0.tier = .free
        $0.queued = 12
        $0.oldestWaitMs = 90_000
    }
    static let logEntry = Flotilla_V1_LogEntry.with {
        $0.index = 1_042
        $0.term = 3
        $0.command = Data([1, 2, 3, 0xFF])
    }
    static let raftMembership = Flotilla_V1_RaftMembership.with {
        $0.voters = ["coord-1", "coord-2", "coord-3"]
        $0.learners = ["coord-4"]
    }
    static let raftEntry = Flotilla_V1_RaftEntry.with {
        $0.index = 1_042
        $0.term = 3
        $0.command = Data([1, 2, 3, 0xFF])
    }
    static let stamp = Flotilla_V1_HybridTimestamp.with {
        $0.wallMs = 1_700_000_000_000
        $0.logical = 4
        $0.node = "coord-1"
    }
    static let metadata = Flotilla_V1_MetadataEntry.with {
        $0.key = "tenant/acme"
        $0.value = Data("quota".utf8)
        $0.stamp = stamp
        $0.originRegion = "us-east"
    }
    static let regionHealth = Flotilla_V1_RegionHealthResponse.with {
        $0.region = "eu-west"
        $0.state = .recovering
        $0.leader = "coord-4"
        $0.workersReady = 8
        $0.gpusFree = 20
        $0.jobsQueued = 3
        $0.trafficPercent = 25
    }

    /// A message of `kind`'s type with some fields set. Exhaustive: a new kind must add one.
    static func message(for kind: MessageKind) -> any SwiftProtobuf.Message {
        switch kind {
        case .hello:
            return Flotilla_V1_Hello.with {
                $0.minVersion = 1
                $0.maxVersion = 1
                $0.role = .worker
                $0.name = "worker-7"
                $0.cluster = "prod"
                $0.region = "us-east"
                $0.software = "flotilla/0.1.0"
            }
        case .helloAck:
            return Flotilla_V1_HelloAck.with {
                $0.version = 1
                $0.role = .coordinator
                $0.name = "coord-1"
                $0.maxInFlight = 64
                $0.maxFrameBytes = 16 << 20
                $0.idleTimeoutMs = 60_000
            }
        case .reject:
            return Flotilla_V1_Reject.with {
                $0.code = .unsupportedVersion
                $0.message = "speaks 1"
                $0.minVersion = 1
                $0.maxVersion = 1
            }
        case .error:
            return Flotilla_V1_Error.with {
                $0.code = .breakerOpen
                $0.message = "mochi-1 is failing"
                $0.retryAfterMs = 30_000
            }
        case .ping: return Flotilla_V1_Ping.with { $0.sentUnixMs = 1_700_000_000_000 }
        case .pong: return Flotilla_V1_Pong.with { $0.sentUnixMs = 1_700_000_000_000 }
        case .streamCancel: return Flotilla_V1_StreamCancel()
        case .streamEnd: return Flotilla_V1_StreamEnd()
        case .ack: return Flotilla_V1_Ack()
        case .fencingToken: return token
        case .gpu: return gpu
        case .checkpoint: return checkpoint
        case .registerWorkerRequest:
            return Flotilla_V1_RegisterWorkerRequest.with {
                $0.name = "worker-7"
                $0.gpus = [gpu, gpu]
                $0.models = ["mochi-1", "open-sora"]
                $0.labels = ["pool": "a"]
                $0.running = [running]
                $0.region = "us-east"
                $0.software = "flotilla/0.1.0"
            }
        case .registerWorkerResponse:
            return Flotilla_V1_RegisterWorkerResponse.with {
                $0.workerID = "w-1"
                $0.heartbeatIntervalMs = 5_000
                $0.heartbeatTimeoutMs = 15_000
                $0.stop = [tokenForJob]
            }
        case .heartbeatRequest:
            return Flotilla_V1_HeartbeatRequest.with {
                $0.workerID = "w-1"
                $0.running = [running]
                $0.freeGpus = 3
                $0.draining = true
            }
        case .heartbeatResponse:
            return Flotilla_V1_HeartbeatResponse.with {
                $0.stop = [tokenForJob]
                $0.drain = true
            }
        case .subscribeDirectivesRequest: return Flotilla_V1_SubscribeDirectivesRequest.with { $0.workerID = "w-1" }
        case .workerDirective:
            return Flotilla_V1_WorkerDirective.with {
                $0.assign = assignment
                $0.graceMs = 30_000
            }
        case .progressReport:
            return Flotilla_V1_ProgressReport.with {
                $0.jobID = "job-000123"
                $0.token = token
                $0.step = 31
                $0.totalSteps = 50
                $0.state = .running
            }
        case .checkpointReport:
            return Flotilla_V1_CheckpointReport.with {
                $0.token = token
                $0.checkpoint = checkpoint
            }
        case .attemptResult:
            return Flotilla_V1_AttemptResult.with {
                $0.jobID = "job-000123"
                $0.token = token
                $0.state = .failed
                $0.exitCode = -9
                $0.error = "CUDA OOM"
                $0.retryable = true
                $0.modelFault = true
                $0.step = 31
            }
        case .reportAck:
            return Flotilla_V1_ReportAck.with {
                $0.accepted = false
                $0.stopAttempt = true
                $0.message = "superseded"
            }
        case .workerReport:
            return Flotilla_V1_WorkerReport.with { $0.checkpoint = Flotilla_V1_CheckpointReport.with { $0.token = token; $0.checkpoint = checkpoint } }
        case .reportBatch:
            return Flotilla_V1_ReportBatch.with {
                $0.reports = [
                    Flotilla_V1_WorkerReport.with { $0.progress = Flotilla_V1_ProgressReport.with { $0.jobID = "job-000123"; $0.token = token; $0.step = 31 } },
                    Flotilla_V1_WorkerReport.with { $0.result = Flotilla_V1_AttemptResult.with { $0.jobID = "job-000123"; $0.token = token; $0.state = .succeeded; $0.step = 50 } },
                ]
            }
        case .reportBatchAck:
            return Flotilla_V1_ReportBatchAck.with {
                $0.acks = [
                    Flotilla_V1_ReportAck.with { $0.accepted = true },
                    Flotilla_V1_ReportAck.with { $0.error = Flotilla_V1_Error.with { $0.code = .invalidArgument; $0.message = "step 60 is past total_steps 50" } },
                ]
            }
        case .workerDirectives:
            return Flotilla_V1_WorkerDirectives.with {
                $0.directives = [
                    Flotilla_V1_WorkerDirective.with {
                        $0.assign = Flotilla_V1_Assignment.with { $0.jobID = "job-000123"; $0.token = token; $0.model = "sdxl"; $0.gpuCount = 1; $0.gpuIndices = [0]; $0.steps = 50 }
                    },
                    Flotilla_V1_WorkerDirective.with { $0.stop = Flotilla_V1_FencingTokenForJob.with { $0.jobID = "job-000122"; $0.token = token } },
                ]
            }
        case .drainNotice:
            return Flotilla_V1_DrainNotice.with {
                $0.workerID = "w-1"
                $0.reason = "SIGTERM"
            }
        case .runningAttempt: return running
        case .fencingTokenForJob: return tokenForJob
        case .assignment: return assignment
        case .submitJobRequest: return Flotilla_V1_SubmitJobRequest.with { $0.spec = spec }
        case .submitJobResponse:
            return Flotilla_V1_SubmitJobResponse.with {
                $0.job = job
                $0.duplicate = true
            }
        case .submitJobsRequest:
            return Flotilla_V1_SubmitJobsRequest.with {
                $0.specs = [spec, spec]
                $0.specs[1].idempotencyKey = "batch-2"
            }
        case .submitJobsResponse:
            return Flotilla_V1_SubmitJobsResponse.with { $0.results = [submitJobResult, submitJobResult] }
        case .submitJobResult: return submitJobResult
        case .getJobRequest: return Flotilla_V1_GetJobRequest.with { $0.jobID = "job-000123" }
        case .getJobResponse: return Flotilla_V1_GetJobResponse.with { $0.job = job }
        case .listJobsRequest:
            return Flotilla_V1_ListJobsRequest.with {
                $0.states = [.queued, .running]
                $0.tenant = "acme"
                $0.model = "mochi-1"
                $0.workerID = "w-1"
                $0.limit = 10
                $0.pageToken = "p2"
            }
        case .listJobsResponse:
            return Flotilla_V1_ListJobsResponse.with {
                $0.jobs = [job, job]
                $0.nextPageToken = "p3"
            }
        case .watchJobRequest: return Flotilla_V1_WatchJobRequest.with { $0.jobID = "job-000123" }
        case .jobEvent:
            return Flotilla_V1_JobEvent.with {
                $0.jobID = "job-000123"
                $0.state = .running
                $0.attempt = 2
                $0.workerID = "w-1"
                $0.step = 31
                $0.totalSteps = 50
                $0.message = "step 31/50"
                $0.atUnixMs = 1_700_000_031_000
                $0.job = job
            }
        case .cancelJobRequest:
            return Flotilla_V1_CancelJobRequest.with {
                $0.jobID = "job-000123"
                $0.reason = "user"
            }
        case .cancelJobResponse: return Flotilla_V1_CancelJobResponse.with { $0.job = job }
        case .jobSpec: return spec
        case .attemptInfo: return attemptInfo
        case .job: return job
        case .clusterStatusRequest: return Flotilla_V1_ClusterStatusRequest()
        case .clusterStatusResponse:
            return Flotilla_V1_ClusterStatusResponse.with {
                $0.cluster = "prod"
                $0.region = "us-east"
                $0.coordinators = [coordinator]
                $0.workersReady = 7
                $0.workersTotal = 8
                $0.gpusTotal = 64
                $0.gpusAllocated = 40
                $0.jobsQueued = 12
                $0.jobsRunning = 20
                $0.jobsSucceeded = 10_000
                $0.jobsFailed = 12
                $0.queues = [queue]
                $0.recommendations = ["add 2 H100 workers"]
            }
        case .listWorkersRequest: return Flotilla_V1_ListWorkersRequest()
        case .listWorkersResponse: return Flotilla_V1_ListWorkersResponse.with { $0.workers = [workerInfo] }
        case .drainWorkerRequest:
            return Flotilla_V1_DrainWorkerRequest.with {
                $0.worker = "worker-7"
                $0.reason = "maintenance"
            }
        case .drainWorkerResponse: return Flotilla_V1_DrainWorkerResponse.with { $0.worker = workerInfo }
        case .listBreakersRequest: return Flotilla_V1_ListBreakersRequest()
        case .listBreakersResponse: return Flotilla_V1_ListBreakersResponse.with { $0.breakers = [breaker] }
        case .breakerActionRequest:
            return Flotilla_V1_BreakerActionRequest.with {
                $0.model = "mochi-1"
                $0.action = .reset
            }
        case .breakerActionResponse: return Flotilla_V1_BreakerActionResponse.with { $0.breaker = breaker }
        case .setTenantRequest: return Flotilla_V1_SetTenantRequest.with { $0.tenant = tenant }
        case .setTenantResponse: return Flotilla_V1_SetTenantResponse.with { $0.tenant = tenant }
        case .drillRequest:
            return Flotilla_V1_DrillRequest.with {
                $0.kind = .leaderFailover
                $0.target = "coord-1"
                $0.timeoutMs = 60_000
            }
        case .drillReport:
            return Flotilla_V1_DrillReport.with {
                $0.kind = .killWorker
                $0.target = "worker-7"
                $0.recovered = true
                $0.detectionMs = 15_200
                $0.recoveryMs = 18_900
                $0.jobsMoved = 3
                $0.timeline = ["killed", "marked LOST", "reassigned"]
                $0.id = "d-42"
                $0.verdict = .pass
                $0.events = [.with { $0.atMs = -5; $0.text = "baseline" }, .with { $0.atMs = 15_200; $0.text = "worker-7 LOST" }]
                $0.jobs = [.with { $0.jobID = "j-9"; $0.stepAtInjection = 40; $0.resumedStep = 30; $0.stepsLost = 10 }]
            }
        case .listDrillsRequest: return Flotilla_V1_ListDrillsRequest.with { $0.limit = 10 }
        case .listDrillsResponse:
            return Flotilla_V1_ListDrillsResponse.with { $0.drills = [.with { $0.id = "d-1"; $0.verdict = .aborted }] }
        case .getDrillRequest: return Flotilla_V1_GetDrillRequest.with { $0.id = "d-1" }
        case .raftTransferLeadershipRequest: return Flotilla_V1_RaftTransferLeadershipRequest.with { $0.to = "c2" }
        case .raftTransferLeadershipResponse:
            return Flotilla_V1_RaftTransferLeadershipResponse.with { $0.leader = "c2"; $0.tookMs = 42 }
        case .raftMembershipRequest:
            return Flotilla_V1_RaftMembershipRequest.with { $0.action = .addLearner; $0.name = "c4" }
        case .raftMembershipResponse: return Flotilla_V1_RaftMembershipResponse.with { $0.members = [coordinator] }
        case .coordinatorInfo: return coordinator
        case .tierQueue: return queue
        case .workerInfo: return workerInfo
        case .breakerInfo: return breaker
        case .tenantQuota: return tenant
        case .raftMessage:
            return Flotilla_V1_RaftMessage.with {
                $0.kind = .append
                $0.from = "coord-1"
                $0.to = "coord-2"
                $0.term = 3
                $0.logTerm = 3
                $0.index = 1_041
                $0.entries = [raftEntry, raftEntry]
                $0.commit = 1_040
            }
        case .raftSnapshotChunk:
            return Flotilla_V1_RaftSnapshotChunk.with {
                $0.from = "coord-1"
                $0.to = "coord-3"
                $0.term = 3
                $0.index = 1_000
                $0.snapshotTerm = 3
                $0.membership = raftMembership
                $0.totalSize = 65_836
                $0.offset = 65_536
                $0.data = Data(repeating: 7, count: 300)
                $0.done = true
            }
        case .raftEntry: return raftEntry
        case .raftMembership: return raftMembership
        case .logEntry: return logEntry
        case .regionHealthRequest: return Flotilla_V1_RegionHealthRequest()
        case .regionHealthResponse: return regionHealth
        case .listRegionsRequest: return Flotilla_V1_ListRegionsRequest()
        case .listRegionsResponse:
            return Flotilla_V1_ListRegionsResponse.with { $0.regions = [regionHealth, regionHealth] }
        case .replicateRequest:
            return Flotilla_V1_ReplicateRequest.with {
                $0.fromRegion = "us-east"
                $0.entries = [metadata]
                $0.synchronous = true
            }
        case .replicateResponse:
            return Flotilla_V1_ReplicateResponse.with {
                $0.appliedUpTo = stamp
                $0.accepted = 1
            }
        case .hybridTimestamp: return stamp
        case .metadataEntry: return metadata
        }
    }
}
