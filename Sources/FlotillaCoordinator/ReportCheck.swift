import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport

/// What is checked of a worker's report before it is proposed (PROTOCOL.md
/// §11.3): it comes from the worker its attempt was given to, and its fields are
/// within limits, the job's total of steps included. Fencing stale tokens is the
/// state machine's, when the report is applied.
enum ReportCheck {
    static func problem(with report: Flotilla_V1_WorkerReport.OneOf_Report, from workerName: String,
                        in state: CoordinatorState) -> FlotillaError? {
        let (jobID, token) = subject(of: report)
        guard jobID.utf8.count <= FieldLimits.maxJobIDBytes else {
            return FlotillaError(.invalidArgument, "job id is longer than \(FieldLimits.maxJobIDBytes) bytes")
        }
        var total: UInt64 = 0
        if let job = state.job(JobID(jobID)) {
            total = job.totalSteps
            if let attempt = job.attempts.first(where: { $0.token == FencingToken(token) }),
               let owner = state.worker(attempt.workerID), owner.name != workerName {
                return FlotillaError(.permissionDenied,
                                     "attempt \(token.attempt) of job \(jobID) belongs to worker \(owner.name), not \(workerName)")
            }
        }
        let problem: String?
        switch report {
        case .progress(let progress): problem = FieldLimits.progressProblem(progress, jobTotal: total)
        case .checkpoint(let checkpoint): problem = FieldLimits.checkpointProblem(checkpoint, jobTotal: total)
        case .result(let result): problem = FieldLimits.resultProblem(result, jobTotal: total)
        }
        return problem.map { FlotillaError(.invalidArgument, $0) }
    }

    static func command(for report: Flotilla_V1_WorkerReport.OneOf_Report, at: UInt64) -> Flotilla_V1_Command {
        switch report {
        case .progress(let progress): .progress(progress, at: at)
        case .checkpoint(let checkpoint): .checkpoint(checkpoint, at: at)
        case .result(let result): .finish(result, checkpointUnusable: result.checkpointUnusable, at: at)
        }
    }

    private static func subject(of report: Flotilla_V1_WorkerReport.OneOf_Report) -> (String, Flotilla_V1_FencingToken) {
        switch report {
        case .progress(let progress): (progress.jobID, progress.token)
        case .checkpoint(let checkpoint): (checkpoint.checkpoint.jobID, checkpoint.token)
        case .result(let result): (result.jobID, result.token)
        }
    }
}
