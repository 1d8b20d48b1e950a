import FlotillaCoordinatorState
import FlotillaProto
import FlotillaRaft
import FlotillaWorker

/// A worker as `WorkerAgent` behaves, in steps: it registers with the leader (following
/// NOT_LEADER), takes directives on the stream its registration opened, heartbeats, runs its
/// attempts a step at a time, reports results until they are acknowledged, and registers again
/// whenever its stream ends or a heartbeat is refused. The real `WorkerCore` decides which
/// assignments and stops it obeys (fencing tokens, older leader terms). With no acknowledgement
/// for `fenceAfter` steps it fences itself and stops its attempts, as `SelfFencing` does.
struct SimulatedWorker {
    struct Running {
        var token: Flotilla_V1_FencingToken
        var gpuIndices: [UInt32]
        var step: UInt64
        var total: UInt64
        var state: Flotilla_V1_AttemptState
        /// Finished here; the result is sent until acknowledged.
        var ended: Bool

        var live: Bool { !ended }
    }

    struct Outstanding {
        var id: Int
        var deadline: Int
    }

    static let model = "sim-model"
    static let heartbeatEvery = 50
    static let callTimeout = 20
    /// `SelfFencing.fenceAfter` for a 5 s interval and 15 s timeout, in 100 ms steps.
    static let fenceAfter = 83

    let name: String
    let gpus: [Flotilla_V1_Gpu]
    let coordinators: [NodeID]
    var core = WorkerCore()
    var workerID: WorkerID?
    var session: (coordinator: NodeID, id: Int)?
    var target: NodeID
    var attempts: [String: Running] = [:]
    var lastAcknowledged: Int?
    var nextHeartbeatAt = 0
    var registerCall: Outstanding?
    var heartbeatCall: Outstanding?
    var finishCalls: [String: Outstanding] = [:]
    var fencings = 0
    var sessions = 0

    init(name: String, gpuCount: Int, coordinators: [NodeID], first: NodeID) {
        self.name = name
        gpus = (0..<gpuCount).map { index in
            var gpu = Flotilla_V1_Gpu()
            gpu.index = UInt32(index)
            gpu.type = "A100"
            gpu.memoryMib = 81_920
            return gpu
        }
        self.coordinators = coordinators
        target = first
    }

    var liveAttempts: [String: Running] { attempts.filter { $0.value.live } }

    // MARK: - Each step

    /// Times out calls, fences, runs attempts a step, and returns the calls to send.
    mutating func step(now: Int, nextCallID: inout Int) -> [Call] {
        var calls: [Call] = []
        func call(_ request: Request, to coordinator: NodeID) -> Outstanding {
            nextCallID += 1
            calls.append(Call(id: nextCallID, from: .worker(name), to: coordinator, request: request))
            return Outstanding(id: nextCallID, deadline: now + Self.callTimeout)
        }
        if let outstanding = registerCall, now >= outstanding.deadline {
            registerCall = nil
            target = next(after: target)
        }
        if let outstanding = heartbeatCall, now >= outstanding.deadline {
            // The coordinator holds the connection but does not answer: try another.
            heartbeatCall = nil
            endSession(tryNext: true)
        }
        finishCalls = finishCalls.filter { now < $0.value.deadline }
        if let lastAcknowledged, now - lastAcknowledged >= Self.fenceAfter, !liveAttempts.isEmpty {
            for (jobID, _) in liveAttempts { attempts[jobID] = nil }
            fencings += 1
        }

        // Attempts run whether or not a coordinator is reachable, until the worker fences.
        for (jobID, var attempt) in attempts where attempt.live {
            attempt.state = .running
            attempt.step += 1
            if attempt.step >= attempt.total {
                attempt.ended = true
                attempt.state = .succeeded
            }
            attempts[jobID] = attempt
        }
        guard let session else {
            if registerCall == nil { registerCall = call(.register(registration), to: target) }
            return calls
        }
        if now >= nextHeartbeatAt, heartbeatCall == nil {
            heartbeatCall = call(.heartbeat(heartbeat), to: session.coordinator)
            nextHeartbeatAt = now + Self.heartbeatEvery
        }
        for (jobID, attempt) in attempts.sorted(by: { $0.key < $1.key }) where attempt.ended && finishCalls[jobID] == nil {
            finishCalls[jobID] = call(.finish(result(jobID, attempt)), to: session.coordinator)
        }
        return calls
    }

    func next(after coordinator: NodeID) -> NodeID {
        let position = coordinators.firstIndex(of: coordinator) ?? 0
        return coordinators[(position + 1) % coordinators.count]
    }

    mutating func endSession(tryNext: Bool) {
        if tryNext, let session { target = next(after: session.coordinator) }
        session = nil
        heartbeatCall = nil
    }

    var summary: String {
        "\(name) " + (session.map { "in session \($0.id) with \($0.coordinator)" } ?? "without a session")
            + (registerCall != nil ? ", registering with \(target)" : "") + ", runs \(attempts.keys.sorted())"
    }

    // MARK: - Requests

    var running: [Flotilla_V1_RunningAttempt] {
        attempts.sorted { $0.key < $1.key }.map { jobID, attempt in
            var running = Flotilla_V1_RunningAttempt()
            running.jobID = jobID
            running.token = attempt.token
            running.step = attempt.step
            running.totalSteps = attempt.total
            running.state = attempt.state
            running.ended = attempt.ended
            return running
        }
    }

    var registration: Flotilla_V1_RegisterWorkerRequest {
        var request = Flotilla_V1_RegisterWorkerRequest()
        request.name = name
        request.gpus = gpus
        request.models = [Self.model]
        request.running = running
        return request
    }

    var heartbeat: Flotilla_V1_HeartbeatRequest {
        var request = Flotilla_V1_HeartbeatRequest()
        request.workerID = workerID?.rawValue ?? ""
        request.running = running
        request.freeGpus = UInt32(gpus.count - Set(liveAttempts.values.flatMap(\.gpuIndices)).count)
        return request
    }

    func result(_ jobID: String, _ attempt: Running) -> Flotilla_V1_AttemptResult {
        var result = Flotilla_V1_AttemptResult()
        result.jobID = jobID
        result.token = attempt.token
        result.state = attempt.state
        result.step = attempt.step
        result.retryable = true
        return result
    }

    // MARK: - Answers

    mutating func receive(_ reply: Reply, now: Int) {
        if reply.callID == registerCall?.id {
            registerCall = nil
            switch reply.answer {
            case .notLeader(let hint): target = hint ?? next(after: reply.from)
            default: target = next(after: reply.from)
            }
        } else if reply.callID == heartbeatCall?.id {
            heartbeatCall = nil
            switch reply.answer {
            case .heartbeatAcknowledged(let stop):
                lastAcknowledged = now
                for target in stop { silence(target) }
            case .notLeader(let hint):
                endSession(tryNext: false)
                target = hint ?? next(after: reply.from)
            default:
                // Refused (declared lost): register again, re-reporting what runs.
                endSession(tryNext: false)
            }
        } else if let (jobID, _) = finishCalls.first(where: { $0.value.id == reply.callID }) {
            finishCalls[jobID] = nil
            if case .reportAcknowledged(let ack) = reply.answer, ack.accepted || ack.stopAttempt {
                attempts[jobID] = nil
            }
        }
    }

    /// The stream's items, in order: the registration's answer first.
    mutating func receive(_ delivery: StreamDelivery, now: Int) throws(SimulationFailureBox) {
        switch delivery.item {
        case .registered(let reply):
            guard reply.callID == registerCall?.id, case .registered(let id, let stop) = reply.answer else { return }
            registerCall = nil
            workerID = id
            session = (reply.from, delivery.session)
            sessions += 1
            lastAcknowledged = now
            nextHeartbeatAt = now + Self.heartbeatEvery
            for target in stop { silence(target) }
        case .ended:
            if session?.id == delivery.session { endSession(tryNext: false) }
        case .directive(let directive):
            guard session?.id == delivery.session else { return }
            try obey(directive)
        }
    }

    private mutating func obey(_ directive: Flotilla_V1_WorkerDirective) throws(SimulationFailureBox) {
        switch directive.directive {
        case .assign(let assignment)?:
            let admission = core.admit(
                assignment.token, running: attempts[assignment.jobID]?.token, servesModel: assignment.model == Self.model,
                gpuIndices: assignment.gpuIndices, ownGPUs: Set(gpus.map(\.index)), draining: false)
            guard case .start = admission else { return }
            let busy = Set(liveAttempts.filter { $0.key != assignment.jobID }.values.flatMap(\.gpuIndices))
            if let clash = assignment.gpuIndices.first(where: busy.contains) {
                throw SimulationFailureBox("\(name) was assigned job \(assignment.jobID) on GPU \(clash), which another attempt holds")
            }
            let start = assignment.hasResumeFrom ? assignment.resumeFrom.step : 0
            attempts[assignment.jobID] = Running(token: assignment.token, gpuIndices: assignment.gpuIndices, step: start,
                                                 total: assignment.steps, state: .assigned, ended: false)
        case .stop(let target)? where core.admitsTerm(target.token.term):
            silence(target)
        case .checkpoint(let target)? where core.admitsTerm(target.token.term):
            if var attempt = attempts[target.jobID], attempt.token == target.token, attempt.live {
                attempt.ended = true
                attempt.state = .preempted
                attempts[target.jobID] = attempt
            }
        default:
            break
        }
    }

    private mutating func silence(_ target: Flotilla_V1_FencingTokenForJob) {
        if attempts[target.jobID]?.token == target.token { attempts[target.jobID] = nil }
    }
}
