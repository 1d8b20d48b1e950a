import FlotillaConfig
import FlotillaCoordinatorState
import FlotillaLog
import FlotillaProto
import FlotillaRaft
import FlotillaRaftHost
import FlotillaRaftStorage
import FlotillaTransport
import Logging

/// The core of a replicated coordinator: the Raft node's inputs (ticks, peers' messages,
/// proposals) and the Ready loop that stores, sends and applies what the node hands over,
/// in that order (etcd's Ready contract). Every member applies the committed entries to its
/// state; only the leader plans, serves and streams. Leadership changes arrive in a Ready:
/// a new leader writes its term's first entries before it serves, and a leader that steps
/// down fails what it had not committed and ends its streams with NOT_LEADER.
extension CoordinatorCore {
    /// Opens the member's storage (`<data_dir>/raft`) and restores the state from its snapshot.
    static func openReplica(configuration: CoordinatorConfiguration, logger: Logger) throws -> (RaftReplica, CoordinatorState) {
        let (storage, stored) = try RaftStorage.openLoaded(
            directory: configuration.dataDirectory + "/raft", configuration: .init(segmentSize: configuration.segmentSize))
        var state = CoordinatorState()
        if let snapshot = stored.snapshot, !snapshot.data.isEmpty {
            state = try CoordinatorState(snapshotBytes: snapshot.data)
        }
        let settings = configuration.raft
        let configured = Membership(voters: settings.peers.map(\.name))
        // A joining member learns the membership from the leader; the others keep the voters
        // they were founded with, whatever raft.peers says now.
        let founders = settings.join ? nil : try storage.foundingMembership(configured: configured)
        let node = RaftNode(options: RaftReplica.options(name: configuration.name, settings: settings), stored: stored,
                            bootstrap: founders ?? .none)
        if !settings.join, Set(node.membership.voters) != Set(configured.voters) {
            logger.warning("raft.peers differs from the group's voters; it only gives addresses: change the membership with `flotillactl operator raft add-peer` and `remove-peer`", metadata: [
                "flotilla.raft.voters": "\(node.membership.voters.sorted().joined(separator: ","))",
                "flotilla.raft.peers": "\(configured.voters.sorted().joined(separator: ","))",
            ])
        }
        logger.info("recovered raft member", metadata: [
            "flotilla.raft.term": "\(node.term)", "flotilla.raft.snapshot_index": "\(node.snapshotIndex)",
            "flotilla.raft.last_index": "\(node.lastIndex)", "flotilla.raft.commit": "\(node.commitIndex)",
            "flotilla.raft.members": "\(node.membership.members.joined(separator: ","))",
        ])
        let inbox = RaftInbox(id: configuration.name, region: configuration.region, logger: logger)
        return (RaftReplica(node: node, storage: storage, settings: settings, inbox: inbox), state)
    }

    /// A single coordinator keeps its log in `<data_dir>/log`, a replicated one in
    /// `<data_dir>/raft`. Switching between them would start from an empty log and silently
    /// leave every job behind, so a data directory that holds only the other kind's log is
    /// refused, with what to do instead.
    static func refuseSilentSwitch(_ configuration: CoordinatorConfiguration) throws {
        let single = configuration.dataDirectory + "/log", replicated = configuration.dataDirectory + "/raft"
        let replicating = configuration.raft.isReplicated
        let (kept, unused) = replicating ? (single, replicated) : (replicated, single)
        guard DurableLog.holdsLog(directory: kept), !DurableLog.holdsLog(directory: unused) else { return }
        throw ConfigError(key: "raft.peers",
            replicating
                ? "data_dir \(configuration.dataDirectory) holds a single coordinator's log (\(single)), and raft.peers lists \(configuration.raft.peers.count) members: a replicated coordinator keeps its log in \(replicated) and would start empty, leaving those jobs behind. Moving a single coordinator's jobs into a replicated group is not supported yet: keep running it alone (one raft peer, or no raft section), or move \(single) away to start the group empty"
                : "data_dir \(configuration.dataDirectory) holds a replicated coordinator's log (\(replicated)), and raft.peers lists at most one member: a single coordinator keeps its log in \(single) and would start empty, leaving those jobs behind. List the group's members in raft.peers again, or move \(replicated) away to start afresh")
    }

    /// The links to the other members; set before `start`.
    func attach(_ transport: RaftTransport) {
        replica?.transport = transport
    }

    /// Starts the Ready loop, the ticker and the inbox reader.
    func startReplication(breakers: BreakerPolicy, tenants: [Flotilla_V1_TenantQuota]) {
        guard let replica else { return }
        replica.breakers = breakers
        replica.tenants = tenants
        let interval = Duration.milliseconds(Int64(replica.settings.heartbeatIntervalMs))
        replicationTasks = [
            Task { await self.runReadyLoop() },
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    await self.raftTick()
                }
            },
            Task { [inbox = replica.inbox] in
                for await batch in inbox.batches { await self.raftStep(batch) }
            },
        ]
        replica.readyWakeup.wake()
    }

    func stopReplication() async {
        guard let replica else { return }
        for task in replicationTasks { task.cancel() }
        replica.readyWakeup.finish()
        replica.inbox.finish()
        replica.transport?.close()
        replica.pending.failAll(FlotillaError(.unavailable, "the coordinator is shutting down"))
        replicationTasks = []
    }

    // MARK: - Inputs

    func raftTick() {
        guard let replica else { return }
        replica.node.tick()
        replica.readyWakeup.wake()
    }

    /// Steps the messages that arrived together, applies what they committed of the stored
    /// log at once (the Ready loop may be waiting for a sync of newer entries meanwhile:
    /// `RaftNode.takeCommittedEntries`), then wakes the Ready loop once.
    func raftStep(_ messages: [Message]) {
        guard let replica else { return }
        let now = now()
        for message in messages {
            replica.node.step(message)
            replica.lastHeard[message.from] = now
            if let leader = replica.node.leader, message.from == leader { replica.lastContactMs = now }
        }
        if !replica.installingSnapshot, failure == nil {
            applyCommitted(replica.node.takeCommittedEntries(), replica)
        }
        replica.readyWakeup.wake()
    }

    /// A connection from another coordinator closed. When it was the leader's, its process
    /// has most likely died (a crash closes its sockets): campaign within a few ticks rather
    /// than waiting out the election timeout (`RaftNode.forgetLeader`; a false alarm costs a
    /// refused pre-vote, and the leader's next heartbeat restores it).
    func peerConnectionClosed(_ member: NodeID) {
        guard let replica, member != name, replica.node.leader == member, !replica.isLeader else { return }
        replica.node.forgetLeader()
        logger.info("the leader's connection closed; campaigning soon", metadata: ["flotilla.raft.leader": "\(member)"])
        replica.readyWakeup.wake()
    }

    func reportUnreachable(_ member: NodeID) {
        replica?.node.reportUnreachable(member)
    }

    /// Proposes `commands` as consecutive entries and waits for them to commit and apply.
    func proposeReplicated(_ commands: [Flotilla_V1_Command]) async throws -> [CommandOutcome] {
        guard let replica else { preconditionFailure("proposeReplicated without a replica") }
        let payloads = try commands.map { try LogEntryRecord(index: 0, term: 0, command: $0).payload() }
        let first: UInt64
        let term: UInt64
        do {
            (first, term) = try replica.node.propose(batch: payloads)
        } catch {
            throw notLeader("\(error)")
        }
        project(commands, first: first, term: term)
        replica.readyWakeup.wake()
        return try await withCheckedThrowingContinuation { continuation in
            replica.pending.add(first: first, count: commands.count, term: term, continuation)
        }
    }

    /// NOT_LEADER with the leader's address when it is known.
    func notLeader(_ reason: String? = nil) -> FlotillaError {
        let leader = replica?.node.leader
        var message = "\(name) is not the leader"
        if let leader, leader != name { message += "; \(leader) is" } else { message += " and no leader is known yet" }
        if let reason { message += " (\(reason))" }
        return FlotillaError(.notLeader, message, leaderHint: replica?.leaderAddress,
                             retryAfterMilliseconds: replica?.leaderAddress == nil ? 200 : nil)
    }

    /// What a request must be answered with instead of being served here: NOT_LEADER on a
    /// member that does not lead (or whose term has not started yet); nil alone or leading.
    func redirect() async -> FlotillaError? {
        guard let replica else { return nil }
        if leading { return nil }
        // Just elected: its term's first entries are being committed. Wait for them (one
        // round trip) rather than sending the client back to this same member.
        if replica.isLeader {
            for _ in 0..<100 where replica.isLeader && !leading {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if leading { return nil }
        }
        return notLeader()
    }

    // MARK: - The Ready loop

    private func runReadyLoop() async {
        guard let replica else { return }
        for await _ in replica.readyWakeup.rounds {
            while replica.node.hasReady, failure == nil, !Task.isCancelled {
                await handleReady(replica)
            }
        }
    }

    private func handleReady(_ replica: RaftReplica) async {
        let ready = replica.node.ready()
        // A leader's appends and heartbeats go out while it syncs the same entries (thesis
        // §10.2.1), unless they carry a commit index past what is already on its disk (a
        // lone voter commits its own entries at once). Everything else waits for the sync, as
        // a vote or an acknowledgement promises what is on disk.
        let stable = ready.entries.first.map { $0.index - 1 } ?? replica.node.lastIndex
        let early = ready.messages.filter { Self.mayPrecedeSync($0, stable: stable) }
        replica.transport?.send(early)
        // Committed entries handed out are already stable, so they apply during the sync
        // too, unless a snapshot replaces the state first.
        let applyEarly = ready.snapshot == nil
        if applyEarly { applyCommitted(ready.committedEntries, replica) }
        replica.installingSnapshot = !applyEarly
        defer { replica.installingSnapshot = false }
        do {
            try await replica.storage.save(ready)
        } catch {
            // What is on disk is unknown: this member stops taking part (never advances).
            failure = "\(error)"
            logger.critical("raft storage write failed; this member stops", metadata: ["error": "\(error)"])
            replica.pending.failAll(FlotillaError(.unavailable, "the coordinator's log failed: \(error)"))
            return
        }
        replica.transport?.send(ready.messages.filter { !Self.mayPrecedeSync($0, stable: stable) })
        if let snapshot = ready.snapshot { restore(from: snapshot, replica) }
        if !applyEarly { applyCommitted(ready.committedEntries, replica) }
        if let leadership = ready.leadership { leadershipChanged(leadership, replica) }
        replica.node.advance(ready)
    }

    /// Only a leader sends appends and heartbeats; `stable` is its last entry already synced.
    static func mayPrecedeSync(_ message: Message, stable: UInt64) -> Bool {
        (message.kind == .append || message.kind == .heartbeat) && message.commit <= stable
    }

    /// A leader's snapshot replaced this member's log: the state becomes the snapshot's.
    private func restore(from snapshot: Snapshot, _ replica: RaftReplica) {
        do {
            state = try CoordinatorState(snapshotBytes: snapshot.data)
        } catch {
            failure = "the leader's snapshot at \(snapshot.index) cannot be read: \(error)"
            logger.critical("snapshot install failed", metadata: ["error": "\(error)"])
            return
        }
        snapshotIndex = snapshot.index
        projection = nil
        replica.pending.fail(through: snapshot.index, notLeader("a snapshot replaced the entry"))
        logger.info("installed the leader's snapshot", metadata: [
            "flotilla.raft.snapshot_index": "\(snapshot.index)", "flotilla.jobs": "\(state.jobCount)"])
    }

    private func applyCommitted(_ entries: [Entry], _ replica: RaftReplica) {
        guard !entries.isEmpty else { return }
        for entry in entries where entry.index > state.lastAppliedIndex {
            var outcome: CommandOutcome?
            if case .command(let bytes) = entry.payload {
                do {
                    let record = try LogEntryRecord(index: entry.index, term: entry.term, payload: bytes)
                    let applied = state.apply(record)
                    deliver(applied, of: record.command)
                    if leading, applied.isAccepted, replica.termTimes.firstSubmissionAt == nil,
                       case .submitJob? = record.command.kind {
                        replica.termTimes.firstSubmissionAt = now()
                    }
                    if applyWakesPlanner, applied.isAccepted, PlannerWakeup.wakes(for: record.command) { wakeup.wake() }
                    outcome = applied
                } catch {
                    logger.error("committed entry holds no readable command; skipped",
                                 metadata: ["flotilla.raft.index": "\(entry.index)", "error": "\(error)"])
                    state.skip(index: entry.index, term: entry.term)
                }
            } else {
                state.skip(index: entry.index, term: entry.term)
            }
            replica.pending.applied(index: entry.index, term: entry.term, outcome: outcome,
                                    orElse: self.notLeader("another leader's entry took its place"))
        }
        if let last = entries.last { replica.node.applied(through: last.index) }
        keepProjectionUp()
        sendOutgoingDirectives()
        metrics.applied(lastIndex: state.lastAppliedIndex, syncs: log.syncCount)
        snapshotIfDue()
    }

    /// Saves the state at `index` as the member's snapshot and drops the entries it covers.
    func compactReplica(index: UInt64, data: [UInt8]) async throws {
        guard let replica else { return }
        replica.node.compact(through: index, data: data)
        let snapshot = replica.node.latestSnapshot
        guard snapshot.index == index else { return }
        try await replica.storage.compact(snapshot)
        snapshotIndex = index
        logger.info("raft snapshot saved", metadata: ["flotilla.raft.snapshot_index": "\(index)"])
    }

    // MARK: - Leadership

    private func leadershipChanged(_ leadership: Leadership, _ replica: RaftReplica) {
        logger.notice("raft leadership", metadata: [
            "flotilla.raft.role": "\(leadership.role.rawValue)", "flotilla.raft.term": "\(leadership.term)",
            "flotilla.raft.leader": "\(leadership.leader ?? "none")",
        ])
        if leadership.role == .leader {
            guard !leading, leadership.term > 0 else { return }
            term = leadership.term
            replica.termsLed += 1
            replica.lastContactMs = now()
            replica.termTimes = RaftReplica.TermTimes(term: leadership.term, electedAt: now())
            // Liveness starts afresh: every worker gets the restart grace to reach this leader.
            heard = [:]
            let term = leadership.term
            Task { await self.beginLeading(term: term) }
        } else if leading || replica.pending.count > 0 || !directiveStreams.isEmpty {
            stepDown(replica)
        }
    }

    /// Writes the term's first entries, then serves; gives up if the term ended meanwhile.
    private func beginLeading(term: UInt64) async {
        guard let replica, replica.isLeader, replica.node.term == term else { return }
        do {
            try await startTerm(breakers: replica.breakers, tenants: replica.tenants)
        } catch {
            logger.warning("could not start the leader's term", metadata: ["flotilla.raft.term": "\(term)", "error": "\(error)"])
            return
        }
        guard replica.isLeader, replica.node.term == term else { return }
        leading = true
        projection = LogProjection(from: state)
        replica.termTimes.servingAt = now()
        wakeup.wake()
        logger.notice("leading", metadata: ["flotilla.raft.term": "\(term)", "flotilla.jobs": "\(state.jobCount)"])
        replica.onLeading?(term)
    }

    /// No longer the leader: what was not committed fails with NOT_LEADER, and every stream
    /// ends with NOT_LEADER so that workers and watchers go to the new leader.
    private func stepDown(_ replica: RaftReplica) {
        leading = false
        projection = nil
        let error = notLeader("leadership changed")
        replica.pending.failAll(error)
        for stream in directiveStreams.values { stream.continuation.finish(throwing: error) }
        directiveStreams.removeAll()
        for streams in watchers.values { for continuation in streams.values { continuation.finish(throwing: error) } }
        watchers.removeAll()
        logger.notice("stepped down", metadata: ["flotilla.raft.leader": "\(replica.node.leader ?? "none")"])
    }

    // MARK: - Operator actions

    /// Hands leadership to `target` (or the most caught-up voter) and waits up to an election
    /// timeout for it to take over. Returns the new leader.
    func transferLeadership(to target: NodeID?) async throws -> NodeID {
        guard let replica else { throw FlotillaError(.failedPrecondition, "this coordinator is not replicated (no raft.peers)") }
        guard replica.isLeader else { throw notLeader() }
        guard let chosen = target ?? replica.node.bestTransferTarget else {
            throw FlotillaError(.failedPrecondition, "no other voter to hand leadership to")
        }
        if chosen == name { throw FlotillaError(.failedPrecondition, "\(name) already leads") }
        if replica.node.membership.learners.contains(chosen) {
            throw FlotillaError(.failedPrecondition, "\(chosen) is a learner: promote it first (`operator raft add-peer \(chosen)`)")
        }
        do {
            try replica.node.transferLeadership(to: chosen)
        } catch {
            throw FlotillaError(.invalidArgument, "cannot transfer leadership to \(chosen): \(error)")
        }
        replica.readyWakeup.wake()
        let deadline = ContinuousClock.now + .milliseconds(Int64(2 * replica.settings.electionTimeoutMs))
        while ContinuousClock.now < deadline {
            if let leader = replica.node.leader, leader != name, !replica.isLeader { return leader }
            try? await Task.sleep(for: .milliseconds(5))
        }
        throw FlotillaError(.deadlineExceeded, "\(chosen) did not take over within \(2 * replica.settings.electionTimeoutMs) ms")
    }

    /// The member's Raft status, for metrics, health and the operator commands.
    var raftStatus: RaftStatus? { replica?.node.status }

    /// Ready on a follower: it knows a leader, heard from it within an election timeout and
    /// has applied what it knows committed.
    var replicaReadiness: (ready: Bool, reason: String)? {
        guard let replica else { return nil }
        if leading { return (true, "leader") }
        if replica.isLeader { return (false, "elected; starting the term") }
        guard let leader = replica.node.leader else { return (false, "no leader known") }
        let silent = now() &- replica.lastContactMs
        if silent > replica.settings.electionTimeoutMs { return (false, "no word from leader \(leader) for \(silent) ms") }
        let status = replica.node.status
        if status.applied < status.commit { return (false, "applying: \(status.applied) of \(status.commit)") }
        return (true, "follower of \(leader), caught up")
    }

    /// Alone, or leading: the planner runs here.
    var plansHere: Bool { replica == nil || leading }

    var raftGauges: CoordinatorMetrics.RaftGauges? {
        guard let replica else { return nil }
        let status = replica.node.status
        return CoordinatorMetrics.RaftGauges(
            role: status.role.rawValue, term: status.term, commit: status.commit, applied: status.applied,
            lastIndex: status.lastIndex, snapshotIndex: status.snapshotIndex,
            lastContactSeconds: replica.isLeader ? 0 : Double(now() &- replica.lastContactMs) / 1_000,
            electionsStarted: status.electionsStarted, termsLed: replica.termsLed,
            inboxDropped: replica.inbox.droppedCount)
    }
}
