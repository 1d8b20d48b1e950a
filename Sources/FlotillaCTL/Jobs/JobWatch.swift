import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf

/// Follows one job's events until it is terminal, printing each as it comes (a line of
/// text, or with `json` a JSON document per line). A stream lost to a dropped connection
/// or a leader change is opened again on the leader (PROTOCOL.md §10); its first event
/// restates the job, so nothing is missed.
struct JobWatch {
    let session: ClusterSession
    let jobID: String
    let json: Bool

    /// Streams in a row that may end without news before the watch gives up.
    static let maxReopens = 5

    /// The terminal event.
    func run() async throws -> Flotilla_V1_JobEvent {
        var request = Flotilla_V1_WatchJobRequest()
        request.jobID = jobID
        var fruitless = 0
        while true {
            // A request first: ClusterClient follows NOT_LEADER hints for requests, not
            // streams, so this leaves the connection on the leader; an unknown id fails here.
            // While no leader is known yet (an election after a partition takes one to two
            // election timeouts), it is tried again like a stream that ended.
            var get = Flotilla_V1_GetJobRequest()
            get.jobID = jobID
            var events = 0
            var interruption: FlotillaError?
            do {
                _ = try await session.connect()
                _ = try await session.client.request(get, expecting: Flotilla_V1_GetJobResponse.self)
                let connection = try await session.connect()
                for try await item in connection.stream(request) {
                    guard let event = item as? Flotilla_V1_JobEvent else { continue }
                    events += 1
                    Console.line(json ? try JSONOutput.line(event) : JobEventLine(event).text)
                    if event.state.isTerminal { return event }
                }
            } catch let error as FlotillaError where error.code == .unavailable || error.code == .notLeader {
                interruption = error
            } catch let error as FlotillaError {
                throw ProtocolErrorMessage(session: session).failure(error, request: events == 0 ? get : request,
                                                                     notFound: "no job \(jobID)")
            }
            // More than the restating first event is progress: start counting afresh.
            fruitless = events > 1 ? 0 : fruitless + 1
            guard fruitless <= Self.maxReopens else {
                if let interruption {
                    throw ProtocolErrorMessage(session: session).failure(interruption, request: request, notFound: nil)
                }
                throw CommandFailure("the watch of job \(jobID) kept ending before the job finished")
            }
            try await Task.sleep(nanoseconds: UInt64(fruitless) * 200_000_000)
        }
    }
}

extension Flotilla_V1_JobEvent {
    /// The message `--wait` and `watch` fail with when the job did not succeed.
    var unsuccessfulEnding: CommandFailure? {
        guard state != .succeeded else { return nil }
        let error = job.error.isEmpty ? "" : ": \(job.error)"
        return CommandFailure("job \(jobID) ended \(state.name)\(error)")
    }
}
