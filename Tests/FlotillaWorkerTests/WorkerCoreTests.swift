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
