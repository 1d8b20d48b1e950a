import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport
import FlotillaWire
import SwiftProtobuf

/// One worker's directive stream and the connection it lives on.
struct DirectiveStream {
    /// Tells this subscription from a later one on the same connection, whose
    /// termination handler must not drop it.
    let id: UInt64
    let connectionID: UInt64
    let continuation: AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.Continuation
    /// The worker subscribed with `accepts_batches`: several directives may go in one
    /// `WorkerDirectives` frame.
    let acceptsBatches: Bool

    /// Sends `directives` in order: one frame for all where the worker accepts batches
    /// (a planner round's assignments to it, say), else one frame each.
    func send(_ directives: [Flotilla_V1_WorkerDirective]) {
        if acceptsBatches, directives.count > 1 {
            for chunk in stride(from: 0, to: directives.count, by: Self.maxBatch) {
                var batch = Flotilla_V1_WorkerDirectives()
                batch.directives = Array(directives[chunk..<min(chunk + Self.maxBatch, directives.count)])
                continuation.yield(batch)
            }
        } else {
            for directive in directives { continuation.yield(directive) }
        }
    }

    static let maxBatch = MessageKind.workerDirectives.repeatedLimit?.max ?? 1_000
}

/// Directives produced while applying a batch of entries, held per worker until the
/// batch is applied so that each worker gets them in one frame.
struct OutgoingDirectives {
    private var byWorker: [WorkerID: [Flotilla_V1_WorkerDirective]] = [:]
    private var order: [WorkerID] = []

    mutating func add(_ directive: Directive) {
        if byWorker[directive.workerID] == nil { order.append(directive.workerID) }
        byWorker[directive.workerID, default: []].append(directive.directive)
    }

    /// Everything held, worker by worker in the order they first got one; empties it.
    mutating func take() -> [(WorkerID, [Flotilla_V1_WorkerDirective])] {
        defer { byWorker = [:]; order = [] }
        return order.map { ($0, byWorker[$0] ?? []) }
    }
}

extension CoordinatorCore {
    /// Carries out what applying a command produced: directives to workers,
    /// events to watchers, counters.
    func deliver(_ outcome: CommandOutcome, of command: Flotilla_V1_Command) {
        if case .submitJob = command.kind, outcome.isAccepted, !outcome.duplicate { metrics.jobSubmitted() }
        for directive in outcome.directives { outgoing.add(directive) }
        for change in outcome.jobChanges {
            let job = state.job(change.jobID)
            if change.stateChanged, let job, job.isTerminal { metrics.jobFinished(job.state) }
            guard let streams = watchers[change.jobID], !streams.isEmpty,
                  let event = state.jobEvent(for: change, at: command.atUnixMs) else { continue }
            for continuation in streams.values { continuation.yield(event) }
            if job?.isTerminal == true {
                for continuation in streams.values { continuation.finish() }
                watchers[change.jobID] = nil
            }
        }
    }

    /// Sends the directives applying produced, one frame per worker where it accepts batches.
    func sendOutgoingDirectives() {
        for (workerID, directives) in outgoing.take() { directiveStreams[workerID]?.send(directives) }
    }

    /// Opens the worker's directive stream, replacing an earlier one, and
    /// replays what it must still hold (PROTOCOL.md §11.3).
    func subscribeDirectives(_ workerID: WorkerID, connectionID: UInt64,
                             acceptsBatches: Bool = false) -> AsyncThrowingStream<any SwiftProtobuf.Message, any Error> {
        let (stream, continuation) = AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.makeStream()
        if let earlier = directiveStreams[workerID] {
            earlier.continuation.finish(throwing: FlotillaError(.cancelled, "a newer directive subscription replaced this one"))
        }
        nextWatcherID += 1
        let id = nextWatcherID
        let subscription = DirectiveStream(id: id, connectionID: connectionID, continuation: continuation,
                                           acceptsBatches: acceptsBatches)
        directiveStreams[workerID] = subscription
        subscription.send(state.outstandingDirectives(for: workerID, now: now()))
        continuation.onTermination = { [weak self] _ in
            Task { await self?.dropDirectiveStream(workerID, id: id) }
        }
        return stream
    }

    /// Forgets the subscription `id` ended; a newer one that replaced it stays.
    func dropDirectiveStream(_ workerID: WorkerID, id: UInt64) {
        if directiveStreams[workerID]?.id == id { directiveStreams[workerID] = nil }
    }

    /// The live connection a worker registered on, if any.
    func registeredConnection(of workerID: WorkerID) -> UInt64? { workerConnections[workerID] }

    func registered(_ workerID: WorkerID, on connectionID: UInt64) { workerConnections[workerID] = connectionID }

    func connectionClosed(_ connectionID: UInt64) {
        for (workerID, connection) in workerConnections where connection == connectionID {
            workerConnections[workerID] = nil
        }
        for (workerID, stream) in directiveStreams where stream.connectionID == connectionID {
            stream.continuation.finish()
            directiveStreams[workerID] = nil
        }
    }

    /// A stream of the job's events: its current state first, then every
    /// change until it is terminal.
    func watch(_ jobID: JobID, visibleTo scope: TenantScope) throws -> AsyncThrowingStream<any SwiftProtobuf.Message, any Error> {
        guard let job = state.job(jobID), scope.admits(job),
              let current = state.jobEvent(for: JobChange(jobID: jobID, stateChanged: true, message: "current state"),
                                           at: now()) else {
            throw TenantScope.unknownJob(jobID.rawValue)
        }
        let (stream, continuation) = AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.makeStream()
        continuation.yield(current)
        if state.job(jobID)?.isTerminal == true {
            continuation.finish()
            return stream
        }
        nextWatcherID += 1
        let id = nextWatcherID
        watchers[jobID, default: [:]][id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.dropWatcher(jobID, id) }
        }
        return stream
    }

    func dropWatcher(_ jobID: JobID, _ id: UInt64) {
        watchers[jobID]?[id] = nil
        if watchers[jobID]?.isEmpty == true { watchers[jobID] = nil }
    }
}
