import ArgumentParser
import FlotillaProto

/// The exit status of a drill subcommand, so cron and CI can act on the verdict alone:
/// PASS and DRY RUN 0, FAIL 1, ABORTED 2, REFUSED 3. A detached drill answers RUNNING,
/// which is 0: it started. With --wait a RUNNING or unknown verdict is 1, since nothing
/// proved the hypothesis; a coordinator older than verdicts says only whether it recovered.
/// Errors (unreachable cluster, refused certificate, the server's errors) are 1 as well.
enum DrillExitStatus {
    static func code(for report: Flotilla_V1_DrillReport, waited: Bool) -> ExitCode {
        switch report.verdict {
        case .pass, .dryRun: return .success
        case .running: return waited ? .failure : .success
        case .fail: return .failure
        case .aborted: return ExitCode(2)
        case .refused: return ExitCode(3)
        case .unspecified: return report.recovered ? .success : .failure
        case .UNRECOGNIZED: return .failure
        }
    }
}
