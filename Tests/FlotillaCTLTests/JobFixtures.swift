import FlotillaProto
import Foundation

/// Job records as a coordinator would serve them.
enum JobFixtures {
    static var nowMilliseconds: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// A job on its second attempt, resumed from a checkpoint at step 30.
    static func running(_ id: String = "j-running") -> Flotilla_V1_Job {
        var job = Flotilla_V1_Job()
        job.id = id
        job.spec.model = "mochi-1"
        job.spec.gpuCount = 4
        job.spec.gpuType = "H100"
        job.spec.tier = .premium
        job.spec.tenant = "studio"
        job.spec.params = ["prompt": "a lighthouse"]
        job.state = .running
        job.submittedUnixMs = nowMilliseconds - 90_000
        job.updatedUnixMs = nowMilliseconds - 1_000
        job.step = 40
        job.totalSteps = 100
        var first = Flotilla_V1_AttemptInfo()
        first.number = 1
        first.workerID = "w-1"
        first.state = .lost
        first.startedUnixMs = nowMilliseconds - 80_000
        first.endedUnixMs = nowMilliseconds - 40_000
        first.error = "worker w-1 missed heartbeats"
        var second = Flotilla_V1_AttemptInfo()
        second.number = 2
        second.workerID = "w-3"
        second.state = .running
        second.startedUnixMs = nowMilliseconds - 30_000
        second.resumedFromStep = 30
        job.attempts = [first, second]
        job.latestCheckpoint.jobID = id
        job.latestCheckpoint.attempt = 1
        job.latestCheckpoint.step = 30
        job.latestCheckpoint.uri = "file:///checkpoints/\(id)/30"
        job.latestCheckpoint.createdUnixMs = nowMilliseconds - 45_000
        return job
    }

    static func queued(_ id: String = "j-queued") -> Flotilla_V1_Job {
        var job = Flotilla_V1_Job()
        job.id = id
        job.spec.model = "sdxl"
        job.spec.gpuCount = 1
        job.spec.tier = .free
        job.spec.tenant = "hobby"
        job.state = .queued
        job.submittedUnixMs = nowMilliseconds - 5_000
        return job
    }

    /// The events of a job that resumes on w-3 and ends in `ending`.
    static func events(_ id: String, ending: Flotilla_V1_JobState) -> [Flotilla_V1_JobEvent] {
        var restated = event(id, .running, step: 30)
        restated.job = running(id)
        restated.message = "attempt 2 assigned to w-3"
        let progress = event(id, .running, step: 40)
        var last = event(id, ending, step: ending == .succeeded ? 100 : 40)
        last.job = running(id)
        last.job.state = ending
        last.job.error = ending == .failed ? "attempts exhausted: CUDA out of memory" : ""
        last.message = ending == .succeeded ? "succeeded" : "failed: CUDA out of memory"
        return [restated, progress, last]
    }

    private static func event(_ id: String, _ state: Flotilla_V1_JobState, step: UInt64) -> Flotilla_V1_JobEvent {
        var event = Flotilla_V1_JobEvent()
        event.jobID = id
        event.state = state
        event.attempt = 2
        event.workerID = "w-3"
        event.step = step
        event.totalSteps = 100
        event.message = "step \(step)/100"
        event.atUnixMs = nowMilliseconds
        return event
    }
}
