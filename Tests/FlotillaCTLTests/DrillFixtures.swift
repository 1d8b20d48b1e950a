import FlotillaProto
import Foundation

/// Drill reports as a coordinator would send them.
enum DrillFixtures {
    /// 2026-12-03 09:55:00 UTC; the reports' times are fixed so their text is.
    static let startedUnixMs: UInt64 = 1_796_291_700_000
    /// Three minutes after the drill started, for `TimeText(now:)`.
    static let now = Date(timeIntervalSince1970: Double(startedUnixMs + 180_000) / 1000)

    /// A kill-worker drill that failed: of the two jobs on w-3, j-1 resumed on w-1 from
    /// its checkpoint, j-2 (no checkpoint) failed; the timeline starts before the injection.
    static let failedKill: Flotilla_V1_DrillReport = .with {
        $0.id = "d-42"
        $0.kind = .killWorker
        $0.verdict = .fail
        $0.reason = "job j-2 failed"
        $0.target = "w-3"
        $0.workers = ["w-3"]
        $0.startedBy = "ops"
        $0.startedUnixMs = startedUnixMs
        $0.endedUnixMs = startedUnixMs + 42_000
        $0.timeoutMs = 60_000
        $0.forced = true
        $0.hypothesis = "jobs on a killed worker run again elsewhere from their latest checkpoint"
        $0.objectiveMs = 30_000
        $0.blastRadius = ["2 of 3 workers stay READY", "4 of 12 GPUs go with w-3"]
        $0.baseline = .with {
            $0.workersReady = 3
            $0.workersTotal = 3
            $0.gpusAllocated = 6
            $0.gpusTotal = 12
            $0.jobsRunning = 2
            $0.jobsQueued = 1
        }
        $0.events = [
            .with { $0.atMs = -512; $0.text = "baseline: 3/3 workers ready" },
            .with { $0.atMs = 0; $0.text = "killed w-3" },
            .with { $0.atMs = 4_210; $0.text = "w-3 SUSPECT" },
            .with { $0.atMs = 18_934; $0.text = "j-1 running on w-1 from step 30" },
        ]
        $0.timeline = ["(ignored while events are sent)"]
        $0.detectionMs = 4_210
        $0.jobs = [
            .with {
                $0.jobID = "j-1"
                $0.workerBefore = "w-3"
                $0.workerAfter = "w-1"
                $0.stepAtInjection = 40
                $0.checkpointStep = 30
                $0.resumedStep = 30
                $0.stepsLost = 10
                $0.recovered = true
                $0.recoveryMs = 18_934
            },
            .with {
                $0.jobID = "j-2"
                $0.workerBefore = "w-3"
                $0.stepAtInjection = 12
                $0.failed = true
            },
        ]
        $0.recoveryP50Ms = 18_934
        $0.recoveryMaxMs = 18_934
        $0.jobsMoved = 1
        $0.jobsFailed = 1
        $0.jobsLost = 1
    }

    /// A slow-worker drill that passed, with its three phases and no jobs moved.
    static let passedSlow: Flotilla_V1_DrillReport = .with {
        $0.id = "d-43"
        $0.kind = .slowWorker
        $0.verdict = .pass
        $0.reason = "throughput held"
        $0.target = "gpu-node-2"
        $0.workers = ["w-2"]
        $0.durationMs = 20_000
        $0.delayMs = 1_500
        $0.startedBy = "ops"
        $0.startedUnixMs = startedUnixMs + 60_000
        $0.endedUnixMs = startedUnixMs + 90_000
        $0.phases = [
            phase("before", finished: 12, perSecond: 0.6, p50: 850, max: 2_100),
            phase("during", finished: 7, perSecond: 0.35, p50: 1_250, max: 65_000),
            phase("after", finished: 11, perSecond: 0.55, p50: 900, max: 2_000),
        ]
    }

    /// A detached kill-worker drill, just injected.
    static let running: Flotilla_V1_DrillReport = .with {
        $0.id = "d-44"
        $0.kind = .killWorker
        $0.verdict = .running
        $0.target = "w-3"
        $0.workers = ["w-3"]
        $0.startedBy = "ops"
        $0.hypothesis = "jobs on a killed worker run again elsewhere from their latest checkpoint"
        $0.objectiveMs = 30_000
        $0.blastRadius = ["2 of 3 workers stay READY"]
        $0.events = [.with { $0.atMs = 0; $0.text = "killed w-3" }]
    }

    /// A drill the blast-radius check stopped.
    static let refused: Flotilla_V1_DrillReport = .with {
        $0.id = "d-45"
        $0.kind = .failZone
        $0.verdict = .refused
        $0.zone = "eu-1a"
        $0.reason = "failing zone eu-1a leaves 0 of 2 workers READY"
        $0.blastRadius = ["zone eu-1a holds 2 of 2 READY workers"]
    }

    private static func phase(_ name: String, finished: UInt32, perSecond: Double, p50: UInt64, max: UInt64)
        -> Flotilla_V1_DrillPhase
    {
        .with {
            $0.name = name
            $0.windowMs = 20_000
            $0.jobsFinished = finished
            $0.jobsPerSecond = perSecond
            $0.queueWaitP50Ms = p50
            $0.queueWaitMaxMs = max
        }
    }
}
