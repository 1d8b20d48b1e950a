import FlotillaProto
import FlotillaTransport
@testable import FlotillaWorker
import Foundation
import SwiftProtobuf

/// A coordinator double: registers the worker, records every request, pushes
/// directives down the subscription, and answers reports as a test decides.
final class FakeCoordinator: FlotillaService {
    let received = Locked<[any SwiftProtobuf.Message]>([])
    private let subscription = Locked<AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.Continuation?>(nil)
    /// Jobs whose reports are answered with stop_attempt = true.
    let refusedJobs = Locked<Set<String>>([])

    /// How many reports each ReportBatch held, in arrival order.
    let batchSizes = Locked<[Int]>([])

    func handle(_ request: InboundRequest) async -> ServiceReply {
        // A batch is recorded as the reports it holds, so tests see every report either way.
        if let batch = request.message as? Flotilla_V1_ReportBatch {
            batchSizes.withLock { $0.append(batch.reports.count) }
            var answer = Flotilla_V1_ReportBatchAck()
            for report in batch.reports {
                switch report.report {
                case .progress(let progress)?:
                    received.withLock { $0.append(progress) }
                    answer.acks.append(ack(progress.jobID))
                case .checkpoint(let checkpoint)?:
                    received.withLock { $0.append(checkpoint) }
                    answer.acks.append(ack(checkpoint.checkpoint.jobID))
                case .result(let result)?:
                    received.withLock { $0.append(result) }
                    answer.acks.append(ack(result.jobID))
                case nil:
                    answer.acks.append(Flotilla_V1_ReportAck())
                }
            }
            return .message(answer)
        }
        received.withLock { $0.append(request.message) }
        switch request.message {
        case is Flotilla_V1_RegisterWorkerRequest:
            var response = Flotilla_V1_RegisterWorkerResponse()
            response.workerID = "wkr-1"
            response.heartbeatIntervalMs = 100
            response.heartbeatTimeoutMs = 1_000
            return .message(response)
        case is Flotilla_V1_HeartbeatRequest:
            return .message(Flotilla_V1_HeartbeatResponse())
        case is Flotilla_V1_SubscribeDirectivesRequest:
            let (stream, continuation) = AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.makeStream()
            subscription.withLock { $0 = continuation }
            return .stream(stream)
        case let report as Flotilla_V1_ProgressReport:
            return .message(ack(report.jobID))
        case let report as Flotilla_V1_CheckpointReport:
            return .message(ack(report.checkpoint.jobID))
        case let result as Flotilla_V1_AttemptResult:
            return .message(ack(result.jobID))
        default:
            return .message(Flotilla_V1_Ack())
        }
    }

    private func ack(_ jobID: String) -> Flotilla_V1_ReportAck {
        var ack = Flotilla_V1_ReportAck()
        if refusedJobs.current.contains(jobID) {
            ack.stopAttempt = true
            ack.message = "job \(jobID) is cancelled"
        } else {
            ack.accepted = true
        }
        return ack
    }

    var isSubscribed: Bool { subscription.current != nil }

    func send(_ directive: Flotilla_V1_WorkerDirective) {
        subscription.current?.yield(directive)
    }

    func all<M: SwiftProtobuf.Message>(_ type: M.Type) -> [M] {
        received.current.compactMap { $0 as? M }
    }

    func progress(of jobID: String) -> [Flotilla_V1_ProgressReport] {
        all(Flotilla_V1_ProgressReport.self).filter { $0.jobID == jobID }
    }

    func checkpoints(of jobID: String) -> [Flotilla_V1_CheckpointReport] {
        all(Flotilla_V1_CheckpointReport.self).filter { $0.checkpoint.jobID == jobID }
    }

    func results(of jobID: String) -> [Flotilla_V1_AttemptResult] {
        all(Flotilla_V1_AttemptResult.self).filter { $0.jobID == jobID }
    }
}

extension Flotilla_V1_WorkerDirective {
    static func assign(_ jobID: String, model: String, steps: UInt64, attempt: UInt32 = 1, gpus: [UInt32] = [0],
                       checkpointEvery: UInt32 = 0, resumeFrom: Flotilla_V1_Checkpoint? = nil) -> Self {
        var assignment = Flotilla_V1_Assignment()
        assignment.jobID = jobID
        assignment.token = token(term: 1, attempt: attempt)
        assignment.model = model
        assignment.gpuCount = UInt32(gpus.count)
        assignment.gpuIndices = gpus
        assignment.steps = steps
        assignment.checkpointEvery = checkpointEvery
        if let resumeFrom { assignment.resumeFrom = resumeFrom }
        var directive = Self()
        directive.assign = assignment
        return directive
    }

    static func checkpoint(_ jobID: String, attempt: UInt32 = 1, graceMs: UInt32 = 5_000) -> Self {
        var target = Flotilla_V1_FencingTokenForJob()
        target.jobID = jobID
        target.token = token(term: 1, attempt: attempt)
        var directive = Self()
        directive.checkpoint = target
        directive.graceMs = graceMs
        return directive
    }

    static func stop(_ jobID: String, attempt: UInt32 = 1, graceMs: UInt32 = 1_000) -> Self {
        var target = Flotilla_V1_FencingTokenForJob()
        target.jobID = jobID
        target.token = token(term: 1, attempt: attempt)
        var directive = Self()
        directive.stop = target
        directive.graceMs = graceMs
        return directive
    }
}
