import FlotillaCoordinatorState
import FlotillaDrills
import FlotillaProto

/// What a drill needs from the core: sending its fault, and the evidence of
/// a job running twice (a worker still claiming a superseded attempt).
extension CoordinatorCore {
    /// Sends a drill's fault on the worker's directive stream; false when it has none.
    func send(_ fault: Flotilla_V1_DrillFault, to workerID: WorkerID) -> Bool {
        guard let stream = directiveStreams[workerID] else { return false }
        var directive = Flotilla_V1_WorkerDirective()
        directive.drill = fault
        stream.continuation.yield(directive)
        return true
    }

    func watchStale(_ on: Bool) {
        watchingStale = on
        staleSightings.removeAll()
    }

    /// A heartbeat or registration listed attempts the state told it to stop:
    /// those still executing (not merely waiting to report) are sightings.
    /// Progress reports are not: a worker may deliver one late, written
    /// before its attempt was fenced.
    func sawStale(_ stops: [Flotilla_V1_FencingTokenForJob], listed: [Flotilla_V1_RunningAttempt]) {
        guard watchingStale, !stops.isEmpty else { return }
        let executing = Set(listed.filter { !$0.ended }.map { "\($0.jobID)/\($0.token.attempt)/\($0.token.term)" })
        for stop in stops where executing.contains("\(stop.jobID)/\(stop.token.attempt)/\(stop.token.term)") {
            guard staleSightings.count < 10_000 else { return }
            staleSightings[JobID(stop.jobID)] = StaleSighting(attempt: stop.token.attempt, at: now())
        }
    }

    /// The drill's view of the state now (taken on the actor: no copy of the state leaves it).
    func observe(_ plan: DrillPlan, tracking: Set<JobID>, phase: (name: String, from: UInt64, to: UInt64)?,
                 workersLost: Int) -> DrillObservation {
        let at = now()
        var observation = DrillObservation.of(state, targets: plan.targets, tracking: tracking, at: at,
                                              lastHeard: { self.lastHeard($0) }, stale: staleSightings)
        if let phase {
            observation.phase = DrillPhaseStats.measure(state, name: phase.name, from: phase.from, to: phase.to,
                                                        workersLost: workersLost)
        }
        return observation
    }
}
