import FlotillaProto

/// The leader's side of the state machine: given the state and the time, the
/// commands to propose (health marks, stall handling, placement). Pure and
/// stateless; it decides, the shell proposes, the log applies. Call it again
/// once its previous batch is applied: a command made stale in between (a
/// worker that heartbeated, a job cancelled) is refused by `apply`.
public struct CoordinatorPlanner: Sendable {
    public var health: HealthPolicy
    public var placement: any PlacementPolicy

    /// `placement` is the scheduler (`FlotillaScheduler.Scheduler`); the state target has no
    /// policy of its own, so every test of the planner runs the real one.
    public init(health: HealthPolicy = HealthPolicy(), placement: any PlacementPolicy) {
        self.health = health
        self.placement = placement
    }

    /// - Parameters:
    ///   - now: the leader's clock, unix ms; stamped on every command.
    ///   - leaderSince: when this coordinator became leader (or restarted).
    ///     Silence is only counted from then, and the restart grace runs from it.
    ///   - heard: the leader's in-memory liveness, when each worker last heartbeated;
    ///     newer than the replicated `lastHeartbeatAt`, which changes only when a
    ///     heartbeat was logged. Commands still carry the replicated value as their guard.
    public func plan(_ state: CoordinatorState, now: UInt64, leaderSince: UInt64,
                     heard: [WorkerID: UInt64] = [:]) -> [Flotilla_V1_Command] {
        func lastHeard(_ worker: Worker) -> UInt64 { max(worker.lastHeartbeatAt, heard[worker.id] ?? 0) }
        let graceEnds = leaderSince.saturatingAdd(health.restartGraceMs)
        let inGrace = now < graceEnds
        var commands: [Flotilla_V1_Command] = []
        var unfit = Set<WorkerID>()

        // Workers: SUSPECT after missed heartbeats, LOST after the timeout.
        if !inGrace {
            for worker in state.workers where worker.health != .lost {
                let silent = now.saturatingSubtract(max(lastHeard(worker), leaderSince))
                if silent > health.heartbeatTimeoutMs {
                    commands.append(.lost(worker.id, lastHeartbeatAt: worker.lastHeartbeatAt,
                                          reason: "no heartbeat for \(silent) ms", at: now))
                    unfit.insert(worker.id)
                } else if silent > health.suspectAfterMs, worker.health == .alive {
                    commands.append(.suspect(worker.id, lastHeartbeatAt: worker.lastHeartbeatAt, at: now))
                    unfit.insert(worker.id)
                }
            }
        }

        // Attempts: a stalled one is asked to checkpoint; one that does not in
        // time is stopped and its job requeued (it resumes elsewhere).
        for job in state.runningJobs {
            guard let attempt = job.liveAttempt, !unfit.contains(attempt.workerID),
                  state.worker(attempt.workerID)?.health == .alive else { continue }
            if attempt.state == .checkpointing {
                if attempt.checkpointDeadline > 0, now >= max(attempt.checkpointDeadline, graceEnds) {
                    commands.append(.preempt(job.id, token: attempt.token,
                                             reason: attempt.checkpointReason ?? .operator, at: now))
                }
            } else if !inGrace, now.saturatingSubtract(max(job.lastProgressAt, leaderSince)) > health.stallTimeoutMs {
                commands.append(.requestCheckpoint(job.id, token: attempt.token, reason: .stall,
                                                   graceMs: health.checkpointGraceMs, at: now))
            }
        }

        // Placement, on workers known to be alive: during the grace only those
        // heard from since this leader began. Nothing queued, nothing to place:
        // an idle tick of a large cluster then copies no worker list.
        guard state.queuedJobCount > 0 else { return commands }
        let eligible = state.workers.filter { worker in
            worker.acceptsWork && !unfit.contains(worker.id) && (!inGrace || lastHeard(worker) >= leaderSince)
        }
        commands += placement.place(state, on: eligible, now: now)
        return commands
    }
}
