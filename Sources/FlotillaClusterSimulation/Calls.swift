import FlotillaCoordinatorState
import FlotillaProto
import FlotillaRaft

/// Who is on the far end of a call: a client or a worker (by name).
enum Party: Hashable, Sendable, CustomStringConvertible {
    case client
    case worker(String)

    var description: String {
        switch self {
        case .client: "client"
        case .worker(let name): name
        }
    }
}

/// A request to a coordinator, as the service's handlers receive it.
enum Request: Sendable {
    case submit(Flotilla_V1_JobSpec)
    case register(Flotilla_V1_RegisterWorkerRequest)
    case heartbeat(Flotilla_V1_HeartbeatRequest)
    case finish(Flotilla_V1_AttemptResult)
}

/// A coordinator's answer.
enum Answer: Sendable {
    /// `index`: the log entry that made (or found) the job.
    case submitted(jobID: JobID, index: UInt64)
    case registered(workerID: WorkerID, stop: [Flotilla_V1_FencingTokenForJob])
    case heartbeatAcknowledged(stop: [Flotilla_V1_FencingTokenForJob])
    case reportAcknowledged(Flotilla_V1_ReportAck)
    case notLeader(hint: NodeID?)
    case rejected(Rejection)
}

struct Call: Sendable {
    var id: Int
    var from: Party
    var to: NodeID
    var request: Request
}

struct Reply: Sendable {
    var callID: Int
    var to: Party
    var from: NodeID
    var answer: Answer
}

/// What a worker's directive stream carries, in order. A stream is named by the call that
/// registered the worker (`session`): the registration's answer comes first, as a worker
/// subscribes only once registered; a stream that ended (the coordinator stepped down or
/// crashed, the worker registered again) delivers nothing more.
struct StreamDelivery: Sendable {
    enum Item: Sendable {
        case registered(Reply)
        case directive(Flotilla_V1_WorkerDirective)
        case ended
    }

    var worker: String
    var session: Int
    var item: Item
}

/// Calls, replies and directives in flight between parties and coordinators. Calls and replies
/// may be lost or delayed (the caller times out and tries again); a stream's directives arrive
/// in order and only while the stream lasts, as on a TCP connection.
struct PartyNetwork {
    struct Timed<T> {
        var item: T
        var at: Int
    }

    var calls: [Timed<Call>] = []
    var replies: [Timed<Reply>] = []
    var streams: [Timed<StreamDelivery>] = []
    /// The latest delivery time per stream, so later directives never overtake earlier ones.
    var streamClock: [Int: Int] = [:]

    static func take<T>(_ queue: inout [Timed<T>], now: Int) -> [T] {
        var due: [T] = []
        var later: [Timed<T>] = []
        for timed in queue {
            if timed.at <= now { due.append(timed.item) } else { later.append(timed) }
        }
        queue = later
        return due
    }
}
