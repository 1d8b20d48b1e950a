import ArgumentParser
@testable import FlotillaCTL
import FlotillaProto
import Foundation
import Testing

/// The pure parts of `flotillactl drill`: the request each subcommand builds, the
/// durations it reads and prints, the exit status of each verdict, the report as text.
@Suite struct DrillCommandTests {
    static let everyOption = [
        "--target", "w-3", "--duration", "20s", "--delay", "500ms", "--zone", "eu-1a", "--job", "j-1",
        "--objective", "30s", "--drill-timeout", "2m", "--dry-run", "--force",
    ]

    @Test func requestCarriesOnlyTheFieldsItsKindReads() throws {
        let options = try DrillOptions.parse(Self.everyOption)
        let kill = options.request(for: .killWorker)
        #expect(kill.kind == .killWorker)
        #expect(kill.target == "w-3")
        #expect(kill.durationMs == 0 && kill.delayMs == 0 && kill.zone.isEmpty && kill.jobID.isEmpty)
        #expect(kill.objectiveMs == 30_000)
        #expect(kill.timeoutMs == 120_000)
        #expect(kill.dryRun && kill.force)
        #expect(kill.detach, "without --wait the coordinator answers once the fault is in")

        let slow = options.request(for: .slowWorker)
        #expect(slow.target == "w-3" && slow.durationMs == 20_000 && slow.delayMs == 500 && slow.zone.isEmpty)
        let zone = options.request(for: .failZone)
        #expect(zone.zone == "eu-1a" && zone.durationMs == 20_000 && zone.target.isEmpty && zone.delayMs == 0)
        let checkpoint = options.request(for: .corruptCheckpoint)
        #expect(checkpoint.jobID == "j-1" && checkpoint.target.isEmpty && checkpoint.durationMs == 0)
        let freeze = options.request(for: .freezeWorker)
        #expect(freeze.target == "w-3" && freeze.durationMs == 20_000 && freeze.delayMs == 0 && freeze.jobID.isEmpty)
    }

    @Test func defaultsLeaveTheCoordinatorToChoose() throws {
        let request = try SlowWorkerDrill.parse(["--wait"]).drill.request(for: SlowWorkerDrill.kind)
        #expect(request.kind == .slowWorker)
        #expect(request.target.isEmpty && request.durationMs == 0 && request.delayMs == 0)
        #expect(request.objectiveMs == 0 && request.timeoutMs == 0)
        #expect(!request.dryRun && !request.force && !request.detach)
    }

    @Test func subcommandsRefuseOptionsOfOtherKinds() throws {
        let refusals: [(any DrillKindCommand.Type, [String], String)] = [
            (KillWorkerDrill.self, ["--zone", "eu-1a"], "--zone does not apply to kill-worker; it is for fail-zone"),
            (FreezeWorkerDrill.self, ["--delay", "1s"], "--delay does not apply to freeze-worker; it is for slow-worker"),
            (CorruptCheckpointDrill.self, ["--target", "w-1"],
             "--target does not apply to corrupt-checkpoint; it is for kill-worker, freeze-worker, slow-worker"),
            (FailZoneDrill.self, ["--zone", "a", "--job", "j-1"], "--job does not apply to fail-zone; it is for corrupt-checkpoint"),
            (KillWorkerDrill.self, ["--duration", "5s"],
             "--duration does not apply to kill-worker; it is for freeze-worker, slow-worker, fail-zone"),
            (FailZoneDrill.self, [], "fail-zone needs --zone ZONE: the workers labelled zone=ZONE are frozen"),
            (KillWorkerDrill.self, ["--target", ""], "--target must not be empty"),
            (SlowWorkerDrill.self, ["--delay", "20"],
             "The value '20' is invalid for '--delay <duration>': expected a duration such as 500ms, 20s, 2m or 1m30s"),
        ]
        for (command, arguments, message) in refusals {
            #expect(throws: (any Error).self, "\(arguments)") { try command.parse(arguments) }
            do {
                _ = try command.parse(arguments)
            } catch {
                #expect(command.message(for: error) == message)
            }
        }
        let zone = try FailZoneDrill.parse(["--zone", "eu-1a", "--duration", "1m30s"]).drill.request(for: .failZone)
        #expect(zone.zone == "eu-1a" && zone.durationMs == 90_000)
    }

    @Test func durationsParseWithTheirUnits() throws {
        let parsed: [(String, UInt64)] = [
            ("500ms", 500), ("20s", 20_000), ("2m", 120_000), ("1h", 3_600_000), ("1m30s", 90_000), ("1.5s", 1_500),
            ("2M", 120_000),
        ]
        for (text, milliseconds) in parsed {
            #expect(try DrillDuration.milliseconds(text) == milliseconds, "\(text)")
        }
        for text in ["20", "", "5x", "-1s", "0s", "1m30", "s", " 5s", "1.2.3s"] {
            #expect(throws: ValidationError.self, "\(text)") { try DrillDuration.milliseconds(text) }
        }
        #expect(DrillDuration.text(850) == "850ms")
        #expect(DrillDuration.text(15_249) == "15.2s")
        #expect(DrillDuration.text(20_000) == "20s")
        #expect(DrillDuration.text(125_000) == "2m5s")
        #expect(DrillDuration.offset(-512) == "-0.512s")
        #expect(DrillDuration.offset(-5) == "-0.005s")
        #expect(DrillDuration.offset(0) == "+0.000s")
        #expect(DrillDuration.offset(12_345) == "+12.345s")
    }

    @Test func waitingLastsTheDrillsDeadlinePlusAMargin() throws {
        #expect(try DrillOptions.parse(["--wait"]).answerDeadlineMilliseconds == 135_000, "default 120 s + 15 s")
        #expect(try DrillOptions.parse(["--wait", "--drill-timeout", "5m"]).answerDeadlineMilliseconds == 315_000)
        #expect(try DrillOptions.parse(["--drill-timeout", "5m"]).answerDeadlineMilliseconds == 10_000, "detached: --timeout")
        #expect(try DrillOptions.parse(["--timeout", "2.5"]).answerDeadlineMilliseconds == 2_500)
        #expect(
            try DrillOptions.parse(["--wait", "--drill-timeout", "10s", "--timeout", "60"]).answerDeadlineMilliseconds == 60_000,
            "never shorter than --timeout")
    }

    @Test func exitStatusFollowsTheVerdict() {
        func code(_ verdict: Flotilla_V1_DrillVerdict, waited: Bool, recovered: Bool = false) -> Int32 {
            let report = Flotilla_V1_DrillReport.with {
                $0.verdict = verdict
                $0.recovered = recovered
            }
            return DrillExitStatus.code(for: report, waited: waited).rawValue
        }
        for waited in [true, false] {
            #expect(code(.pass, waited: waited) == 0)
            #expect(code(.fail, waited: waited) == 1)
            #expect(code(.aborted, waited: waited) == 2)
            #expect(code(.refused, waited: waited) == 3)
            #expect(code(.dryRun, waited: waited) == 0)
            #expect(code(.unspecified, waited: waited, recovered: true) == 0, "a coordinator older than verdicts")
            #expect(code(.unspecified, waited: waited) == 1)
            #expect(code(.UNRECOGNIZED(9), waited: waited) == 1)
        }
        #expect(code(.running, waited: false) == 0, "detached: it started")
        #expect(code(.running, waited: true) == 1, "waited, yet nothing proved the hypothesis")
    }

    @Test func fullReportInOrder() {
        let started = TimeText.timestamp(DrillFixtures.startedUnixMs)
        let expected = """
            Drill:      d-42
            Kind:       kill-worker
            Verdict:    FAIL
            Target:     w-3
            Workers:    w-3
            Timeout:    1m
            Started by: ops
            Started:    \(started) (3m ago), ran 42s
            Forced:     yes, past the blast-radius check

            Hypothesis: jobs on a killed worker run again elsewhere from their latest checkpoint
            Objective:  running again within 30s

            Blast radius:
              - 2 of 3 workers stay READY
              - 4 of 12 GPUs go with w-3

            Baseline: 3/3 workers ready, 6/12 GPUs allocated, 2 jobs running, 1 queued

            Timeline:
               -0.512s  baseline: 3/3 workers ready
               +0.000s  killed w-3
               +4.210s  w-3 SUSPECT
              +18.934s  j-1 running on w-1 from step 30

            Detection: 4.2s from the injection to SUSPECT or LOST

            Jobs:
            JOB  BEFORE  AFTER  STEP  CHECKPOINT  RESUMED  LOST  RECOVERY  NOTE
            j-1  w-3     w-1    40    30          30       10    18.9s     -
            j-2  w-3     -      12    none        -        -     -         FAILED

            Recovery:       p50 18.9s, max 18.9s
            Jobs moved:     1
            Jobs failed:    1 (should be 0)
            Jobs ran twice: 0
            Jobs lost:      1 (should be 0)

            Verdict: FAIL: job j-2 failed
            """
        #expect(DrillReportText.render(DrillFixtures.failedKill, time: TimeText(now: DrillFixtures.now)) == expected)
    }

    @Test func phasesAndTheFaultsSettings() throws {
        let text = DrillReportText.render(DrillFixtures.passedSlow, time: TimeText(now: DrillFixtures.now))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.prefix(4) == ["Drill:      d-43", "Kind:       slow-worker", "Verdict:    PASS", "Target:     gpu-node-2"])
        #expect(lines.contains("Duration:   20s"))
        #expect(lines.contains("Delay:      1.5s"))
        let phases = try #require(lines.firstIndex(of: "Phases:"))
        #expect(words(lines[phases + 1]) == ["NAME", "WINDOW", "FINISHED", "JOBS/S", "WAIT-P50", "WAIT-MAX", "FAILED", "LOST"])
        #expect(words(lines[phases + 2]) == ["before", "20s", "12", "0.60", "850ms", "2.1s", "0", "0"])
        #expect(words(lines[phases + 3]) == ["during", "20s", "7", "0.35", "1.3s", "1m5s", "0", "0"])
        #expect(words(lines[phases + 4]) == ["after", "20s", "11", "0.55", "900ms", "2s", "0", "0"])
        #expect(lines.last == "Verdict: PASS: throughput held")
        for absent in ["Jobs:", "Recovery", "Timeline:", "Blast radius:", "Baseline:", "Detection:", "Forced:", "Hypothesis:"] {
            #expect(!text.contains(absent), "an empty section: \(absent)")
        }
    }

    @Test func oldCoordinatorsTimelineStringsAndNoVerdict() {
        let old = Flotilla_V1_DrillReport.with {
            $0.kind = .killWorker
            $0.target = "w-1"
            $0.recovered = true
            $0.recoveryMs = 18_900
            $0.jobsMoved = 3
            $0.timeline = ["+0.000s killed", "+15.200s marked LOST"]
        }
        let text = DrillReportText.render(old)
        #expect(text.contains("Timeline:\n  +0.000s killed\n  +15.200s marked LOST\n"))
        #expect(text.contains("Recovery:       18.9s\nJobs moved:     3\n"))
        #expect(text.hasSuffix("Verdict: UNKNOWN (recovered)"))
    }

    @Test func summaryOfADetachedOrRefusedDrill() {
        let running = DrillReportText.summary(DrillFixtures.running)
        #expect(running == """
            Drill:      d-44
            Kind:       kill-worker
            Verdict:    RUNNING
            Target:     w-3
            Workers:    w-3
            Started by: ops

            Hypothesis: jobs on a killed worker run again elsewhere from their latest checkpoint
            Objective:  running again within 30s

            Blast radius:
              - 2 of 3 workers stay READY

            Verdict: RUNNING
            """)
        let refused = DrillReportText.summary(DrillFixtures.refused)
        #expect(refused == """
            Drill:   d-45
            Kind:    fail-zone
            Verdict: REFUSED
            Target:  -
            Zone:    eu-1a

            Blast radius:
              - zone eu-1a holds 2 of 2 READY workers

            Verdict: REFUSED: failing zone eu-1a leaves 0 of 2 workers READY
            """)
    }

    @Test func listTableNewestFirst() {
        let table = DrillTable([DrillFixtures.passedSlow, DrillFixtures.failedKill, DrillFixtures.refused], time: TimeText(now: DrillFixtures.now))
        let lines = table.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(words(lines[0]) == ["ID", "KIND", "TARGET", "VERDICT", "STARTED", "DETECTION", "RECOVERY", "BY"])
        #expect(words(lines[1]) == ["d-43", "slow-worker", "gpu-node-2", "PASS", "2m", "ago", "-", "-", "ops"])
        #expect(words(lines[2]) == ["d-42", "kill-worker", "w-3", "FAIL", "3m", "ago", "4.2s", "18.9s", "ops"])
        #expect(words(lines[3]) == ["d-45", "fail-zone", "-", "REFUSED", "-", "-", "-", "-"])
        #expect(DrillTable([]).text == "no drills")
    }
}
