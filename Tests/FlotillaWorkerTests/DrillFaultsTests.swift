import FlotillaProto
@testable import FlotillaWorker
import FlotillaTestSupport
import Foundation
import Testing

/// The worker's side of a drill: what it obeys, and for how long.
@Suite struct DrillFaultsTests {
    let now = ContinuousClock.now

    func fault(_ action: Flotilla_V1_DrillFault.Action, durationMs: UInt64 = 0, delayMs: UInt64 = 0, uri: String = "") -> Flotilla_V1_DrillFault {
        var fault = Flotilla_V1_DrillFault()
        fault.drillID = "d-1"
        fault.action = action
        fault.durationMs = durationMs
        fault.delayMs = delayMs
        fault.checkpointUri = uri
        return fault
    }

    @Test func aWorkerThatDoesNotAllowDrillsRefusesEveryFault() {
        var faults = DrillFaults()
        for action in [Flotilla_V1_DrillFault.Action.kill, .freeze, .slow, .corruptCheckpoint] {
            let reaction = faults.receive(fault(action, durationMs: 1_000, delayMs: 100, uri: "file:///c"), allowed: false, at: now)
            #expect(reaction == .refuse("drills.allow is false in this worker's configuration"))
        }
        #expect(faults.frozen(at: now) == nil)
        #expect(faults.delay(at: now) == .zero)
    }

    @Test func aFreezeEndsByItselfAndIsBounded() {
        var faults = DrillFaults()
        #expect(faults.receive(fault(.freeze, durationMs: 2_000), allowed: true, at: now) == .frozen(until: now + .seconds(2)))
        #expect(faults.frozen(at: now + .seconds(1)) == now + .seconds(2))
        #expect(faults.frozen(at: now + .seconds(2)) == nil)
        // A freeze of a day is held to ten minutes.
        _ = faults.receive(fault(.freeze, durationMs: 86_400_000), allowed: true, at: now)
        #expect(faults.frozen(at: now + .seconds(599)) != nil)
        #expect(faults.frozen(at: now + .seconds(600)) == nil)
        #expect(faults.receive(fault(.end), allowed: true, at: now) == .ended)
        #expect(faults.frozen(at: now) == nil)
    }

    @Test func slowDelaysOnlyWhileItLasts() {
        var faults = DrillFaults()
        #expect(faults.receive(fault(.slow, durationMs: 1_000, delayMs: 200), allowed: true, at: now)
            == .slowed(by: .milliseconds(200), until: now + .seconds(1)))
        #expect(faults.delay(at: now + .milliseconds(999)) == .milliseconds(200))
        #expect(faults.delay(at: now + .seconds(1)) == .zero)
        #expect(faults.receive(fault(.slow, durationMs: 1_000), allowed: true, at: now) == .refuse("SLOW needs a duration and a delay"))
    }

    @Test func killAndCorruptionNeedNothingMoreThanTheirTarget() {
        var faults = DrillFaults()
        #expect(faults.receive(fault(.kill), allowed: true, at: now) == .kill)
        #expect(faults.receive(fault(.corruptCheckpoint, uri: "file:///ckpt/a"), allowed: true, at: now) == .corruptThenKill(uri: "file:///ckpt/a"))
        #expect(faults.receive(fault(.corruptCheckpoint), allowed: true, at: now) == .refuse("CORRUPT_CHECKPOINT names no checkpoint"))
        #expect(faults.receive(fault(.unspecified), allowed: true, at: now) == .refuse("unknown drill action unspecified"))
    }
}

/// A corrupt-checkpoint drill damages only a regular file under the checkpoint directory.
@Suite struct DrillCorruptionTests {
    @Test func damagesTheFileInPlaceAndNothingOutsideTheDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let checkpoints = directory.appending("checkpoints")
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        let inside = checkpoints.appendingPathComponent("step-9.ckpt")
        let original = Data("flotilla stepper checkpoint\nstep: 9\n".utf8)
        try original.write(to: inside)
        let outside = directory.appending("elsewhere.ckpt")
        try original.write(to: outside)
        let link = checkpoints.appendingPathComponent("link.ckpt")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside)

        #expect(WorkerAgent.corrupt("file://" + inside.path, within: checkpoints.path) != nil)
        let damaged = try Data(contentsOf: inside)
        #expect(damaged.count == original.count)
        #expect(damaged != original)

        #expect(WorkerAgent.corrupt("file://" + outside.path, within: checkpoints.path) == nil)
        #expect(WorkerAgent.corrupt("file://" + link.path, within: checkpoints.path) == nil)
        #expect(WorkerAgent.corrupt("file://" + checkpoints.path + "/../elsewhere.ckpt", within: checkpoints.path) == nil)
        #expect(try Data(contentsOf: outside) == original)
    }
}
