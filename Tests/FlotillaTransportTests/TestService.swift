import FlotillaProto
import FlotillaTransport
import Foundation
import NIOConcurrencyHelpers

/// A service double: answers submissions with an id, streams watch events, holds
/// "slow" requests until released, and counts what it executed.
final class TestService: FlotillaService {
    private let executed = NIOLockedValueBox<[String]>([])
    private let closedPeers = NIOLockedValueBox<[PeerInfo]>([])
    let streamCancelled = NIOLockedValueBox(false)
    let notLeaderHint: String?

    init(notLeaderHint: String? = nil) {
        self.notLeaderHint = notLeaderHint
    }

    var executedKinds: [String] { executed.withLockedValue { $0 } }
    var closedConnections: Int { closedPeers.withLockedValue { $0.count } }

    func handle(_ request: InboundRequest) async -> ServiceReply {
        executed.withLockedValue { $0.append("\(request.kind)") }
        if let hint = notLeaderHint {
            return .failure(FlotillaError(.notLeader, "not the leader", leaderHint: hint))
        }
        switch request.message {
        case let submit as Flotilla_V1_SubmitJobRequest:
            var response = Flotilla_V1_SubmitJobResponse()
            response.job.id = "job-\(submit.spec.idempotencyKey)"
            response.job.spec = submit.spec
            response.job.state = .queued
            return .message(response)
        case let get as Flotilla_V1_GetJobRequest where get.jobID == "stuck":
            try? await Task.sleep(nanoseconds: 30_000_000_000)
            return .failure(FlotillaError(.notFound, "stuck job"))
        case let get as Flotilla_V1_GetJobRequest where get.jobID == "slow":
            try? await Task.sleep(nanoseconds: 2_000_000_000)
            return .failure(FlotillaError(.notFound, "slow job"))
        case is Flotilla_V1_GetJobRequest:
            return .failure(FlotillaError(.notFound, "no such job"))
        case let watch as Flotilla_V1_WatchJobRequest:
            return .stream(events(for: watch.jobID))
        case is Flotilla_V1_ClusterStatusRequest:
            var status = Flotilla_V1_ClusterStatusResponse()
            status.cluster = "test"
            return .message(status)
        default:
            return .message(Flotilla_V1_Ack())
        }
    }

    /// "forever" streams until cancelled; any other id streams three events and ends.
    private func events(for jobID: String) -> AsyncThrowingStream<any SwiftProtobuf.Message, any Error> {
        let cancelled = streamCancelled
        return AsyncThrowingStream { continuation in
            let task = Task {
                var step: UInt64 = 0
                while jobID == "forever" || step < 3 {
                    step += 1
                    var event = Flotilla_V1_JobEvent()
                    event.jobID = jobID
                    event.step = step
                    continuation.yield(event)
                    if jobID == "forever" { try? await Task.sleep(nanoseconds: 10_000_000) }
                    if Task.isCancelled { break }
                }
                continuation.finish()
            }
            continuation.onTermination = { termination in
                if case .cancelled = termination { cancelled.withLockedValue { $0 = true } }
                task.cancel()
            }
        }
    }

    func connectionClosed(_ peer: PeerInfo) async {
        closedPeers.withLockedValue { $0.append(peer) }
    }
}

import SwiftProtobuf
