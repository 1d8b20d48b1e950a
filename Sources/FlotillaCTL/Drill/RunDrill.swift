import ArgumentParser
import FlotillaProto
import FlotillaTransport
import NIOCore

/// A subcommand that runs one kind of drill (DrillKindCommands.swift): it checks the
/// options against its kind, sends the DrillRequest, prints the answer and exits with the
/// verdict's status (DrillExitStatus).
protocol DrillKindCommand: AsyncParsableCommand {
    static var kind: Flotilla_V1_DrillRequest.Kind { get }
    var drill: DrillOptions { get }
}

extension DrillKindCommand {
    func validate() throws {
        try drill.validate(for: Self.kind)
    }

    func run() async throws {
        let report = try await ClusterSession.with(drill.connection) { session in
            try await session.drill(drill.request(for: Self.kind), deadlineMilliseconds: drill.answerDeadlineMilliseconds)
        }
        if drill.json {
            Console.line(try JSONOutput.line(report))
        } else if report.verdict == .running || report.verdict == .refused || report.verdict == .dryRun {
            // Nothing has happened yet (or nothing will): the summary is all the report holds.
            Console.line(DrillReportText.summary(report))
            if report.verdict == .running {
                Console.line("\nThe drill runs on; see how it ends with `flotillactl drill show \(report.id)`.")
            }
        } else {
            Console.line(DrillReportText.render(report))
        }
        let status = DrillExitStatus.code(for: report, waited: drill.wait)
        if status != .success { throw status }
    }
}

/// The common discussion of the drill subcommands: where the answer comes and the exit status.
enum DrillHelp {
    static let discussion = """
        Without --wait the coordinator answers once the fault is injected (RUNNING; follow it with \
        `flotillactl drill show ID`), or at once with REFUSED or, for --dry-run, DRY RUN. With --wait it \
        answers when the drill ends, at the latest its --drill-timeout; flotillactl waits that long plus 15s. \
        Options that do not apply to the kind are refused. Exit status: 0 PASS, DRY RUN or (without --wait) \
        RUNNING; 1 FAIL, or an error; 2 ABORTED; 3 REFUSED. 
        """ + JSONOutput.help + " The document is a DrillReport."
}

extension ClusterSession {
    /// `request(_:expecting:)` with the drill's own deadline instead of --timeout. A drill is
    /// never resent (PROTOCOL.md §8.3), so a missed deadline may leave it running unseen:
    /// say where to find it rather than to retry, which would start a second one.
    fileprivate func drill(
        _ request: Flotilla_V1_DrillRequest, deadlineMilliseconds: UInt64
    ) async throws -> Flotilla_V1_DrillReport {
        try await connect()
        do {
            return try await client.request(
                request, expecting: Flotilla_V1_DrillReport.self,
                timeout: .milliseconds(Int64(clamping: deadlineMilliseconds)))
        } catch let error as FlotillaError where error.code == .deadlineExceeded {
            throw CommandFailure(
                "no report from the coordinator at \(settings.addressList) within \(DrillDuration.text(deadlineMilliseconds)); "
                    + "the drill may still be running: see `flotillactl drill list`")
        } catch let error as FlotillaError {
            throw ProtocolErrorMessage(session: self).failure(error, request: request, notFound: nil)
        }
    }
}
