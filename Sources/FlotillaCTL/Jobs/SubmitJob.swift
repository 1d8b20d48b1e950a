import ArgumentParser
import FlotillaProto
import Foundation

/// `flotillactl jobs submit`: queues a job and prints its id; `--wait` follows it to the end.
/// `--file` submits a file of specs instead, in batches (`SubmitJobsFile`).
struct SubmitJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job (or a file of them, --file) and print its id.",
        discussion: JSONOutput.help
            + " The document is a SubmitJobResponse; with --wait, each JobEvent follows on its own line."
            + " Exit status with --wait: 0 only if the job SUCCEEDED."
            + " With --file, each line of the file is a JobSpec in JSON (e.g. {\"model\": \"sdxl\", \"gpuCount\": 2});"
            + " they go in SubmitJobsRequests of up to 1,000, each printed as its job id (--json: each SubmitJobsResponse)."
            + " A line without an idempotencyKey gets one from the file's contents and its line number, so submitting"
            + " the same file again makes no job twice. Exit status 1 if any spec was refused.")

    @OptionGroup(title: "Connection Options") var connection: ConnectionOptions

    @Option(name: .long, help: "Model to run (required unless --file).")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Submit every JobSpec of this JSON-lines file, in batches.", valueName: "path"))
    var file: String?

    @Option(name: .long, help: "GPUs, all on one worker.")
    var gpus: UInt32 = 1

    @Option(name: .customLong("gpu-type"), help: "Required GPU type, e.g. H100 (default: any).")
    var gpuType: String?

    @Option(name: .long, help: "Priority tier.")
    var tier: TierArgument = .standard

    @Option(name: .long, help: ArgumentHelp(
        "Tenant the job is billed to; quotas attach to it (default: a client certificate's own tenant, else default).",
        valueName: "tenant"))
    var tenant: String?

    @Option(name: .customLong("param"), help: ArgumentHelp("A model parameter (repeatable).", valueName: "key=value"))
    var params: [KeyValueArgument] = []

    @Option(name: .long, help: "Total steps (default: the executor decides).")
    var steps: UInt64?

    @Option(name: .customLong("max-attempts"), help: "Attempts before the job fails (default: the cluster's, 3).")
    var maxAttempts: UInt32?

    @Option(
        name: .customLong("idempotency-key"),
        help: ArgumentHelp(
            "Submitting again with the same key and tenant returns the same job (default: a fresh random key, "
                + "so that a submission lost with its connection can be resent safely)."))
    var idempotencyKey: String?

    @Flag(name: .customLong("allow-fallback"), help: "Run on the model's fallback chain while its breaker is open.")
    var allowFallback = false

    @Option(name: .customLong("label"), help: ArgumentHelp("Only on workers with this label (repeatable).", valueName: "key=value"))
    var labels: [KeyValueArgument] = []

    @Flag(name: .long, help: "Print the SubmitJobResponse (and, with --wait, each JobEvent) as JSON.")
    var json = false

    @Flag(name: .long, help: "Watch the job until it ends; fail unless it SUCCEEDED.")
    var wait = false

    func validate() throws {
        if file != nil {
            guard model == nil, !wait, idempotencyKey == nil else {
                throw ValidationError("--file takes the specs from the file: give no --model, --idempotency-key or --wait")
            }
            return
        }
        guard let model else { throw ValidationError("--model is required (or --file)") }
        guard !model.isEmpty else { throw ValidationError("--model must not be empty") }
        guard gpus > 0 else { throw ValidationError("--gpus must be at least 1") }
        _ = try KeyValueArgument.dictionary(params, option: "--param")
        _ = try KeyValueArgument.dictionary(labels, option: "--label")
    }

    var spec: Flotilla_V1_JobSpec {
        get throws {
            var spec = Flotilla_V1_JobSpec()
            spec.model = model ?? ""
            spec.gpuCount = gpus
            spec.gpuType = gpuType ?? ""
            spec.tier = tier.proto
            // Empty lets the coordinator decide, so a tenant-bound client need not repeat its tenant.
            spec.tenant = tenant ?? ""
            spec.params = try KeyValueArgument.dictionary(params, option: "--param")
            spec.steps = steps ?? 0
            spec.maxAttempts = maxAttempts ?? 0
            spec.idempotencyKey = idempotencyKey ?? "flotillactl-" + UUID().uuidString.lowercased()
            spec.fallbackAllowed = allowFallback
            spec.labels = try KeyValueArgument.dictionary(labels, option: "--label")
            return spec
        }
    }

    func run() async throws {
        if let file { return try await SubmitJobsFile(path: file, json: json).run(connection) }
        var request = Flotilla_V1_SubmitJobRequest()
        request.spec = try spec
        try await ClusterSession.with(connection) { session in
            let response = try await session.request(request, expecting: Flotilla_V1_SubmitJobResponse.self)
            if json {
                Console.line(try JSONOutput.line(response))
            } else {
                Console.line(response.job.id)
                if response.duplicate {
                    FileHandle.standardError.write(Data(
                        "flotillactl: an earlier submission with this idempotency key is job \(response.job.id) (\(response.job.state.name))\n".utf8))
                }
            }
            guard wait else { return }
            let ending = try await JobWatch(session: session, jobID: response.job.id, json: json).run()
            if let failure = ending.unsuccessfulEnding { throw failure }
        }
    }
}
