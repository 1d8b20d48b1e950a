import FlotillaCoordinatorState
@testable import FlotillaDrills
import FlotillaProto
import Testing

@Suite struct DrillPlannerTests {
    @Test func refusesTheLastHealthyWorkerOfAModelWithWork() throws {
        var cluster = DrillCluster()
        let only = cluster.worker("gpu-1", models: ["mochi"])
        _ = cluster.worker("gpu-2", models: ["sdxl"])
        _ = cluster.runningJob(on: only, model: "mochi")
        #expect(throws: DrillPlanError.self) { try cluster.plan(.killWorker, target: "gpu-1") }
        do {
            _ = try cluster.plan(.killWorker, target: "gpu-1")
        } catch .refused(let reason, let radius) {
            #expect(reason.contains("last healthy worker serving model mochi"))
            #expect(radius.isUnsafe)
        } catch {
            Issue.record("unexpected \(error)")
        }
        // --force runs it, and the report says it was forced.
        let forced = try cluster.plan(.killWorker, target: "gpu-1", force: true)
        #expect(forced.targets == [only])
        #expect(forced.startingReport(startedBy: "op", baseline: .init()).forced)
    }

    @Test func aSecondServerMakesItSafe() throws {
        var cluster = DrillCluster()
        let first = cluster.worker("gpu-1")
        _ = cluster.worker("gpu-2")
        _ = cluster.runningJob(on: first, checkpoint: 30)
        let plan = try cluster.plan(.killWorker, target: "gpu-1")
        #expect(!plan.blastRadius.isUnsafe)
        #expect(plan.blastRadius.lines.contains { $0.contains("1 other healthy worker") })
        #expect(plan.faults(drillID: "d-1").map(\.1.action) == [.kill])
    }

    @Test func refusesAZoneHoldingEveryGPUOfATypeInUse() throws {
        var cluster = DrillCluster()
        let h100 = cluster.worker("h-1", models: ["sdxl"], type: "H100", zone: "b")
        _ = cluster.worker("a-1", models: ["sdxl"], type: "A100", zone: "a")
        _ = cluster.runningJob(on: h100, type: "H100")
        do {
            _ = try cluster.plan(.failZone, zone: "b")
            Issue.record("the zone drill was not refused")
        } catch .refused(let reason, _) {
            #expect(reason.contains("all 2 healthy GPUs of type H100"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        // The A100 the zone holds is asked for by no job: losing it is safe.
        let other = try cluster.plan(.failZone, zone: "a")
        #expect(other.targetText == "zone a")
        #expect(other.faults(drillID: "d-1").map(\.1.action) == [.freeze])
    }

    @Test func aWorkerThatDoesNotAllowDrillsIsRefusedEvenWhenForced() {
        var cluster = DrillCluster()
        _ = cluster.worker("gpu-1", allowsDrills: false)
        _ = cluster.worker("gpu-2")
        do {
            _ = try cluster.plan(.freezeWorker, target: "gpu-1", force: true)
            Issue.record("not refused")
        } catch .refused(let reason, _) {
            #expect(reason.contains("does not allow drills"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aSlowWorkerDelayAtTheSuspicionThresholdIsUnsafe() throws {
        var cluster = DrillCluster()
        _ = cluster.worker("gpu-1")
        _ = cluster.worker("gpu-2")
        // Defaults: heartbeat 5 s, suspect after 10 s: a delay of 5 s or more is unsafe.
        #expect(throws: DrillPlanError.self) { try cluster.plan(.slowWorker, target: "gpu-1", delayMs: 5_000) }
        let plan = try cluster.plan(.slowWorker, target: "gpu-1", delayMs: 1_000)
        #expect(plan.faults(drillID: "d-1").first?.1.delayMs == 1_000)
        #expect(plan.timeoutMs >= 2 * plan.durationMs)
    }

    @Test func choosesTheWorkerRunningTheMostCheckpointedWork() throws {
        var cluster = DrillCluster()
        let idle = cluster.worker("gpu-1")
        let busy = cluster.worker("gpu-2")
        _ = cluster.runningJob(on: busy, checkpoint: 10)
        _ = idle
        let plan = try cluster.plan(.killWorker)
        #expect(plan.targets == [busy])
        #expect(plan.targetText == "gpu-2")
    }

    @Test func corruptCheckpointPicksARunningCheckpointedJob() throws {
        var cluster = DrillCluster()
        let worker = cluster.worker("gpu-1")
        _ = cluster.worker("gpu-2")
        _ = cluster.runningJob(on: worker, gpu: 0)
        let checkpointed = cluster.runningJob(on: worker, gpu: 1, step: 40, checkpoint: 30)
        let plan = try cluster.plan(.corruptCheckpoint)
        #expect(plan.jobID == checkpointed)
        #expect(plan.faults(drillID: "d-1").first?.1.checkpointUri == "file:///ckpt/\(checkpointed)/30")
    }

    @Test func malformedRequestsAreInvalid() {
        let cluster = DrillCluster()
        #expect(throws: DrillPlanError.invalid("fail-zone needs a zone (DrillRequest.zone)")) { try cluster.plan(.failZone) }
        #expect(throws: DrillPlanError.notFound("no worker nope")) { try cluster.plan(.killWorker, target: "nope") }
        #expect(throws: DrillPlanError.self) { try cluster.plan(.leaderFailover) }
    }
}
