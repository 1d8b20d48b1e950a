import FlotillaProto
import FlotillaTransport
@testable import FlotillaWorker
import Testing

/// Self-fencing and shutdown decided by the pure `WorkerCore`, on an injected clock.
@Suite struct WorkerCoreTests {
    let start = ContinuousClock.now

    func registered(_ core: inout WorkerCore, attempts: Int = 1) {
        _ = core.on(.registered(interval: .seconds(5), timeout: .seconds(15)), at: start)
        _ = core.on(.workChanged(.init(attempts: attempts, reportsPending: false, connected: true)), at: start)
    }

    @Test func renewsWhileAcknowledgedAndFencesOnceAtTheDeadline() {
        var core = WorkerCore()
        registered(&core)
        #expect(core.on(.tick, at: start + .seconds(8)) == [.renewLeases])
        _ = core.on(.heartbeatAcknowledged, at: start + .seconds(5))
        // 8.333 s after the last acknowledgement (5 s): fenced at 13.334 s, once.
        #expect(core.on(.tick, at: start + .milliseconds(13_333)) == [.renewLeases])
        let fenceAfter = Duration.seconds(5) + .seconds(10) / 3
        #expect(core.on(.tick, at: start + .milliseconds(13_334)) == [.fence(after: fenceAfter)])
        #expect(core.on(.tick, at: start + .seconds(14)) == [])
        #expect(core.on(.heartbeatAcknowledged, at: start + .seconds(20)) == [.unfence])
        #expect(core.on(.tick, at: start + .seconds(21)) == [.renewLeases])
    }

    @Test func nothingToRenewOrFenceWithoutAttempts() {
        var core = WorkerCore()
        registered(&core, attempts: 0)
        #expect(core.on(.tick, at: start + .seconds(60)) == [])
    }

    /// Before, an idle worker waited out its whole `drain_grace` (30 s) after SIGTERM.
    @Test func anIdleWorkerFinishesAtOnce() {
        var core = WorkerCore()
        registered(&core, attempts: 0)
        #expect(core.on(.shutdownRequested(reason: "SIGTERM", grace: .seconds(30)), at: start)
            == [.sendDrainNotice(reason: "SIGTERM"), .finish(.drained)])
        #expect(core.finished)
    }

    @Test func aBusyWorkerFinishesWhenItsLastReportIsDelivered() {
        var core = WorkerCore()
        registered(&core, attempts: 2)
        #expect(core.on(.shutdownRequested(reason: "SIGTERM", grace: .seconds(30)), at: start)
            == [.sendDrainNotice(reason: "SIGTERM"), .checkpointAll(grace: .milliseconds(22_500))])
        #expect(core.on(.workChanged(.init(attempts: 0, reportsPending: true, connected: true)), at: start + .seconds(3)) == [])
        #expect(core.on(.workChanged(.init(attempts: 0, reportsPending: false, connected: true)), at: start + .seconds(4))
            == [.finish(.drained)])
    }

    @Test func withNoConnectionThereIsNoOneToWaitFor() {
        var core = WorkerCore()
        registered(&core, attempts: 1)
        _ = core.on(.shutdownRequested(reason: "SIGTERM", grace: .seconds(30)), at: start)
        #expect(core.on(.workChanged(.init(attempts: 0, reportsPending: true, connected: false)), at: start + .seconds(1))
            == [.finish(.drained)])
    }

    @Test func theGraceStopsWhatIsLeft() {
        var core = WorkerCore()
        registered(&core, attempts: 1)
        _ = core.on(.shutdownRequested(reason: "SIGTERM", grace: .seconds(30)), at: start)
        _ = core.on(.heartbeatAcknowledged, at: start + .seconds(25))
        #expect(core.on(.tick, at: start + .seconds(29)) == [.renewLeases])
        #expect(core.on(.tick, at: start + .seconds(30)) == [.stopAllNow, .finish(.graceExpired(attempts: 1))])
        #expect(core.on(.tick, at: start + .seconds(31)) == [])
    }
}

/// Which assignments a worker obeys, decided by the core.
@Suite struct WorkerCoreAdmissionTests {
    func token(_ term: UInt64, _ attempt: UInt32) -> Flotilla_V1_FencingToken {
        var token = Flotilla_V1_FencingToken()
        token.term = term
        token.attempt = attempt
        return token
    }

    func admit(_ core: inout WorkerCore, _ token: Flotilla_V1_FencingToken, running: Flotilla_V1_FencingToken? = nil,
               serves: Bool = true, gpus: [UInt32] = [0], draining: Bool = false) -> WorkerCore.Admission {
        core.admit(token, running: running, servesModel: serves, gpuIndices: gpus, ownGPUs: [0, 1], draining: draining)
    }

    func isIgnored(_ admission: WorkerCore.Admission) -> Bool {
        if case .ignore = admission { return true }
        return false
    }

    @Test func startsRefusesAndSupersedes() {
        var core = WorkerCore()
        let first = admit(&core, token(1, 1))
        #expect(first == .start(superseding: false))
        let second = admit(&core, token(1, 2), running: token(1, 1), gpus: [1])
        #expect(second == .start(superseding: true))
        let unknown = admit(&core, token(1, 3), serves: false)
        #expect(unknown == .refuse(.unknownModel, superseding: false))
        let drained = admit(&core, token(1, 3), draining: true)
        #expect(drained == .refuse(.draining, superseding: false))
        let missing = admit(&core, token(1, 3), gpus: [7])
        #expect(missing == .refuse(.missingGPU(7), superseding: false))
    }

    @Test func repeatsAndOlderAttemptsAreIgnored() {
        var core = WorkerCore()
        let repeated = admit(&core, token(1, 2), running: token(1, 2))
        #expect(isIgnored(repeated))
        // Before, an older attempt's late assignment silenced the newer one that ran.
        let older = admit(&core, token(1, 1), running: token(1, 2))
        #expect(isIgnored(older))
    }

    /// A deposed leader's directives (an older term than one already seen) are ignored.
    @Test func directivesOfAnOlderTermAreIgnored() {
        var core = WorkerCore()
        let three = core.admitsTerm(3)
        let threeAgain = core.admitsTerm(3)
        let two = core.admitsTerm(2)
        #expect(three && threeAgain && !two)
        let stale = admit(&core, token(2, 5))
        if case .ignore(let reason) = stale {
            #expect(reason.contains("older than term 3"))
        } else {
            Issue.record("an assignment of term 2 was accepted after term 3: \(stale)")
        }
        let newer = admit(&core, token(4, 1))
        #expect(newer == .start(superseding: false))
        #expect(core.newestTerm == 4)
    }
}

/// The courier's rules for an answered (or unanswered) report, decided by the core.
@Suite struct WorkerCoreReportTests {
    func ack(accepted: Bool = false, stop: Bool = false) -> Flotilla_V1_ReportAck {
        var ack = Flotilla_V1_ReportAck()
        ack.accepted = accepted
        ack.stopAttempt = stop
        ack.message = "m"
        return ack
    }

    @Test func answersBecomeVerdicts() {
        #expect(WorkerCore.verdict(on: .answered(ack(accepted: true)), isProgress: false, refusals: 0) == .delivered)
        #expect(WorkerCore.verdict(on: .answered(nil), isProgress: false, refusals: 0) == .delivered)
        if case .stopAttempt = WorkerCore.verdict(on: .answered(ack(stop: true)), isProgress: false, refusals: 0) {} else {
            Issue.record("stop_attempt did not stop the attempt")
        }
        // "Not now": register again and resend, until the fifth refusal.
        if case .registerAgainAndResend = WorkerCore.verdict(on: .answered(ack()), isProgress: false, refusals: 3) {} else {
            Issue.record("a fourth refusal was not resent")
        }
        if case .giveUp = WorkerCore.verdict(on: .answered(ack()), isProgress: false, refusals: 4) {} else {
            Issue.record("a fifth refusal was not given up")
        }
        // Progress is never resent: a newer one follows.
        #expect(WorkerCore.verdict(on: .answered(ack()), isProgress: true, refusals: 0) == .delivered)
    }

    @Test func failuresReconnectOrDrop() {
        let unavailable = FlotillaError(.unavailable, "gone")
        #expect(WorkerCore.verdict(on: .failed(unavailable, connectionAlive: true), isProgress: false, refusals: 0)
            == .reconnect(dropIt: false, closeClient: false, because: "a report could not be delivered: \(unavailable)"))
        let notLeader = FlotillaError(.notLeader, "elsewhere")
        if case .reconnect(true, true, _) = WorkerCore.verdict(on: .failed(notLeader, connectionAlive: true), isProgress: true, refusals: 0) {} else {
            Issue.record("NOT_LEADER did not close the client and drop the progress")
        }
        let invalid = FlotillaError(.invalidArgument, "step past total")
        if case .drop = WorkerCore.verdict(on: .failed(invalid, connectionAlive: true), isProgress: false, refusals: 0) {} else {
            Issue.record("an invalid report was not dropped")
        }
        // Any failure on a dead connection reconnects.
        if case .reconnect = WorkerCore.verdict(on: .failed(invalid, connectionAlive: false), isProgress: false, refusals: 0) {} else {
            Issue.record("a failure on a closed connection did not reconnect")
        }
    }
}
