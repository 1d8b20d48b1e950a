import FlotillaProto
import Foundation

/// The human forms of a DrillReport. `render` is the full report (`drill show`, `--wait`),
/// in the order a drill is read: what was faulted, the hypothesis and objective, what the
/// safety check found, the cluster before, what happened, what it cost each job, the
/// verdict. `summary` is what a detached drill's first answer can say: everything up to
/// the blast radius, and the verdict. Sections the report leaves empty are left out.
enum DrillReportText {
    static func render(_ report: Flotilla_V1_DrillReport, time: TimeText = TimeText()) -> String {
        let sections = [
            header(report, time: time), purpose(report), blastRadius(report), baseline(report), timeline(report),
            failover(report), detection(report), jobs(report), recovery(report), phases(report), verdict(report),
        ]
        return sections.compactMap { $0 }.joined(separator: "\n\n")
    }

    static func summary(_ report: Flotilla_V1_DrillReport, time: TimeText = TimeText()) -> String {
        [header(report, time: time), purpose(report), blastRadius(report), verdict(report)]
            .compactMap { $0 }.joined(separator: "\n\n")
    }

    static func header(_ report: Flotilla_V1_DrillReport, time: TimeText) -> String {
        var fields = Fields()
        fields.append("Drill", report.id.isEmpty ? "-" : report.id)
        fields.append("Kind", report.kind.commandName)
        fields.append("Verdict", report.verdict.name)
        fields.append("Target", report.target.isEmpty ? "-" : report.target)
        if !report.workers.isEmpty { fields.append("Workers", report.workers.joined(separator: ", ")) }
        if !report.zone.isEmpty { fields.append("Zone", report.zone) }
        if report.kind == .leaderFailover { fields.append("Mode", report.mode == .transfer ? "transfer" : "kill (SIGKILL)") }
        if report.durationMs > 0 { fields.append("Duration", DrillDuration.text(report.durationMs)) }
        if report.delayMs > 0 { fields.append("Delay", DrillDuration.text(report.delayMs)) }
        if report.timeoutMs > 0 { fields.append("Timeout", DrillDuration.text(report.timeoutMs)) }
        if !report.startedBy.isEmpty { fields.append("Started by", report.startedBy) }
        if report.startedUnixMs > 0 {
            var started = "\(TimeText.timestamp(report.startedUnixMs)) (\(time.age(report.startedUnixMs)))"
            if report.endedUnixMs > 0 {
                started += ", ran " + time.duration(from: report.startedUnixMs, to: report.endedUnixMs)
            } else if report.verdict == .running {
                started += ", running for " + time.duration(from: report.startedUnixMs, to: 0)
            }
            fields.append("Started", started)
        }
        if report.forced { fields.append("Forced", "yes, past the blast-radius check") }
        return fields.text
    }

    static func purpose(_ report: Flotilla_V1_DrillReport) -> String? {
        var fields = Fields()
        if !report.hypothesis.isEmpty { fields.append("Hypothesis", report.hypothesis) }
        if report.objectiveMs > 0 {
            fields.append("Objective", report.kind.objectivePhrase + " " + DrillDuration.text(report.objectiveMs))
        }
        return fields.lines.isEmpty ? nil : fields.text
    }

    static func blastRadius(_ report: Flotilla_V1_DrillReport) -> String? {
        list("Blast radius:", report.blastRadius.map { "- " + $0 })
    }

    static func baseline(_ report: Flotilla_V1_DrillReport) -> String? {
        guard report.hasBaseline else { return nil }
        let before = report.baseline
        return "Baseline: \(before.workersReady)/\(before.workersTotal) workers ready, "
            + "\(before.gpusAllocated)/\(before.gpusTotal) GPUs allocated, "
            + "\(before.jobsRunning) jobs running, \(before.jobsQueued) queued"
    }

    /// "+12.345s  text" per event, the offsets right-aligned; a coordinator older than
    /// `events` sends only the rendered `timeline` lines, printed as they are.
    static func timeline(_ report: Flotilla_V1_DrillReport) -> String? {
        guard !report.events.isEmpty else { return list("Timeline:", report.timeline) }
        let offsets = report.events.map { DrillDuration.offset($0.atMs) }
        let width = offsets.map(\.count).max() ?? 0
        return list("Timeline:", zip(offsets, report.events).map { offset, event in
            String(repeating: " ", count: width - offset.count) + offset + "  " + event.text
        })
    }

    /// leader-failover: what the new leader measured.
    static func failover(_ report: Flotilla_V1_DrillReport) -> String? {
        guard report.kind == .leaderFailover, !report.newLeader.isEmpty else { return nil }
        var fields = Fields()
        fields.append("New leader", "\(report.newLeader) (term \(report.newTerm))")
        fields.append("Elected", "+" + DrillDuration.text(report.electedMs))
        fields.append("Serving", "+" + DrillDuration.text(report.firstCommitMs) + " (its term's first entry committed)")
        fields.append("First ack", report.firstSubmissionMs == 0 ? "no submission came during the drill"
            : "+" + DrillDuration.text(report.firstSubmissionMs))
        fields.append("Jobs restarted", mustBeZero(report.jobsRestarted))
        return fields.text
    }

    static func detection(_ report: Flotilla_V1_DrillReport) -> String? {
        guard report.kind != .leaderFailover, report.detectionMs > 0 else { return nil }
        return "Detection: \(DrillDuration.text(report.detectionMs)) from the injection to SUSPECT or LOST"
    }

    static func jobs(_ report: Flotilla_V1_DrillReport) -> String? {
        guard !report.jobs.isEmpty else { return nil }
        var table = Table("JOB", "BEFORE", "AFTER", "STEP", "CHECKPOINT", "RESUMED", "LOST", "RECOVERY", "NOTE")
        for job in report.jobs {
            // Where it resumed and what it lost are only known once it runs again.
            let again = { (value: String) in job.recovered ? value : "-" }
            table.append([
                job.jobID, dash(job.workerBefore), dash(job.workerAfter), "\(job.stepAtInjection)",
                job.checkpointStep == 0 ? "none" : "\(job.checkpointStep)", again("\(job.resumedStep)"),
                again("\(job.stepsLost)"), again(DrillDuration.text(job.recoveryMs)), notes(job),
            ])
        }
        return "Jobs:\n" + table.text
    }

    /// Loud for what a drill must never see (a failed job, a job that ran twice).
    static func notes(_ job: Flotilla_V1_DrillJobRecovery) -> String {
        var notes: [String] = []
        if job.failed { notes.append("FAILED") }
        if job.ranTwice { notes.append("RAN TWICE") }
        if !job.recovered && !job.failed { notes.append("not running again") }
        if job.succeeded { notes.append("finished") }
        return notes.isEmpty ? "-" : notes.joined(separator: ", ")
    }

    static func recovery(_ report: Flotilla_V1_DrillReport) -> String? {
        let counts = [report.jobsMoved, report.jobsLost, report.jobsFailed, report.jobsRanTwice]
        guard !report.jobs.isEmpty || report.recoveryMs > 0 || report.recoveryMaxMs > 0 || counts.contains(where: { $0 > 0 })
        else { return nil }
        var fields = Fields()
        if report.recoveryMaxMs > 0 {
            fields.append(
                "Recovery",
                "p50 \(DrillDuration.text(report.recoveryP50Ms)), max \(DrillDuration.text(report.recoveryMaxMs))")
        } else if report.recoveryMs > 0 {
            fields.append("Recovery", DrillDuration.text(report.recoveryMs))
        }
        if report.kind != .leaderFailover { fields.append("Jobs moved", "\(report.jobsMoved)") }
        fields.append("Jobs failed", mustBeZero(report.jobsFailed))
        fields.append("Jobs ran twice", mustBeZero(report.jobsRanTwice))
        fields.append("Jobs lost", mustBeZero(report.jobsLost))
        return fields.text
    }

    static func phases(_ report: Flotilla_V1_DrillReport) -> String? {
        guard !report.phases.isEmpty else { return nil }
        var table = Table("NAME", "WINDOW", "FINISHED", "JOBS/S", "WAIT-P50", "WAIT-MAX", "FAILED", "LOST")
        for phase in report.phases {
            table.append([
                phase.name, DrillDuration.text(phase.windowMs), "\(phase.jobsFinished)",
                String(format: "%.2f", phase.jobsPerSecond), DrillDuration.text(phase.queueWaitP50Ms),
                DrillDuration.text(phase.queueWaitMaxMs), "\(phase.jobsFailed)", "\(phase.workersLost)",
            ])
        }
        return "Phases:\n" + table.text
    }

    static func verdict(_ report: Flotilla_V1_DrillReport) -> String {
        var line = "Verdict: " + report.verdict.name
        if !report.reason.isEmpty { line += ": " + report.reason }
        // A coordinator older than verdicts says only whether the cluster recovered.
        if report.verdict == .unspecified { line += report.recovered ? " (recovered)" : " (not recovered)" }
        return line
    }

    private static func list(_ title: String, _ lines: [String]) -> String? {
        lines.isEmpty ? nil : ([title] + lines.map { "  " + $0 }).joined(separator: "\n")
    }

    private static func dash(_ text: String) -> String { text.isEmpty ? "-" : text }

    private static func mustBeZero(_ count: UInt32) -> String { count == 0 ? "0" : "\(count) (should be 0)" }
}
