import FlotillaCoordinatorState
import FlotillaProto
import FlotillaRaft
import FlotillaScheduler

/// The planner plans from the projection of the whole log (`LogProjection`), not from the
/// committed state, and its loop does not wait for one round's commands to commit before the
/// next round: a job's result and the next job's assignment to the GPU it frees go to the
/// followers in the same append, and commit in one round trip instead of two.
///
/// Every command appended here is projected as it is numbered, in log order. Entries the
/// Raft node appends itself (a leader's empty entry, a membership change) are read back from
/// the node's log. The projection is dropped when this member stops leading and rebuilt from
/// the committed state and the log when the planner next needs it.
extension CoordinatorCore {
    /// Projects `commands`, just appended at `first...` in `term`, and wakes the planner for
    /// those that change what it plans from.
    func project(_ commands: [Flotilla_V1_Command], first: UInt64, term: UInt64) {
        guard projection != nil else { return }
        catchUpProjection(through: first - 1)
        for (offset, command) in commands.enumerated() {
            guard let outcome = projection?.append(LogEntryRecord(index: first + UInt64(offset), term: term, command: command)) else {
                // Out of step with the log: planning uses the committed state until it is rebuilt.
                logger.debug("projection out of step; rebuilt at the next round", metadata: ["flotilla.log.index": "\(first)"])
                projection = nil
                return
            }
            if outcome.isAccepted, PlannerWakeup.wakes(for: command) { wakeup.wake() }
        }
    }

    /// What the planner plans from: the projection while this coordinator plans (rebuilt
    /// from the committed state and the log if it was dropped), else the committed state.
    func projectedState() -> CoordinatorState {
        guard plansHere else { return state }
        if projection == nil || projection?.isBehind(state) == true {
            projection = LogProjection(from: state)
            catchUpProjection(through: lastLoggedIndex)
        }
        return projection?.state ?? state
    }

    /// After applying: a projection the committed state has passed missed entries, and is
    /// rebuilt when next needed. Applying wakes the planner only where nothing projects
    /// (a follower, or a leader whose projection was dropped).
    func keepProjectionUp() {
        if projection?.isBehind(state) == true { projection = nil }
    }

    /// The planner needs no wake-up when the entry was projected: it was woken then.
    var applyWakesPlanner: Bool { projection == nil }

    /// The last entry of the log: numbered alone, or the Raft node's last.
    private var lastLoggedIndex: UInt64 { replica?.node.lastIndex ?? (nextIndex - 1) }

    /// Projects the log's entries after the projection's last one, through `last`.
    private func catchUpProjection(through last: UInt64) {
        guard projection?.catchUp(through: last, entry: loggedEntry(at:)) == false else { return }
        projection = nil
    }

    /// An entry not yet applied, from the proposals (alone) or the Raft node's log.
    private func loggedEntry(at index: UInt64) -> LogProjection.LoggedEntry? {
        guard let replica else {
            return proposed[index].map { .command(LogEntryRecord(index: index, term: term, command: $0)) }
        }
        return replica.node.entry(at: index).map {
            LogProjection.LoggedEntry(index: $0.index, term: $0.term, command: $0.command)
        }
    }
}

/// What the planner loop learns of a round once its commands are appended.
struct PlannedRound: Sendable {
    /// How long sampling and planning took (the loop rests as long before the next round).
    var took: Duration
    /// When the round asked retention to prune, if it did.
    var prunedAt: UInt64?
}

extension CoordinatorCore {
    /// One round of the planner loop: plans from the projection, appends the commands, and
    /// resumes `planned` before waiting for them to commit, so that the loop's next round can
    /// plan meanwhile. Resuming does not give up the actor: the commands are numbered and
    /// projected in this same turn, before any later round plans. `done` gets the outcomes.
    func planRound(with planner: CoordinatorPlanner, scaling: CoordinatorScaling, retention: RetentionPolicy,
                   lastPrunedAt: UInt64?, planned: CheckedContinuation<PlannedRound, Never>,
                   done: @Sendable ([Flotilla_V1_Command], Result<[CommandOutcome], any Error>) -> Void) async {
        guard plansHere else { return planned.resume(returning: PlannedRound(took: .zero)) }
        let started = ContinuousClock.now
        sampleScaling(scaling)
        var commands = plan(with: planner)
        let prune = retentionCommand(retention, lastPrunedAt: lastPrunedAt)
        if let prune { commands.append(prune) }
        planned.resume(returning: PlannedRound(took: ContinuousClock.now - started, prunedAt: prune?.atUnixMs))
        guard !commands.isEmpty else { return }
        do {
            done(commands, .success(try await propose(commands)))
        } catch {
            done(commands, .failure(error))
        }
    }
}
