import CoreMetrics
import FlotillaCoordinatorState
import FlotillaDrills
import FlotillaProto
import FlotillaScheduler
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// The coordinator's Prometheus metrics. Counters move as commands apply;
/// gauges describing the whole state are refreshed when /metrics is scraped,
/// so a busy coordinator does not recount its jobs on every entry.
public final class CoordinatorMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let submitted: Metrics.Counter
    private let logIndex: Metrics.Gauge
    private let logSyncs: Metrics.Gauge
    private let submitLatency: Metrics.Timer
    private let batchSubmitLatency: Metrics.Timer
    /// The labelled scaling gauges set by the last `recordScaling`, so that a
    /// series whose label went away (a model nobody serves any more) is removed.
    private let scalingSeries = NIOLockedValueBox<Set<Series>>([])

    private struct Series: Hashable {
        var label: String
        var dimension: String
        var value: String
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "flotilla_submit_seconds": Self.submitBuckets,
            "flotilla_submit_batch_seconds": Self.submitBuckets,
        ]
        self.factory = factory
        submitted = Metrics.Counter(label: "flotilla_jobs_submitted_total", factory: factory)
        logIndex = Metrics.Gauge(label: "flotilla_log_last_index", factory: factory)
        logSyncs = Metrics.Gauge(label: "flotilla_log_fsyncs", factory: factory)
        submitLatency = Metrics.Timer(label: "flotilla_submit_seconds", factory: factory)
        batchSubmitLatency = Metrics.Timer(label: "flotilla_submit_batch_seconds", factory: factory)
    }

    func jobSubmitted() { submitted.increment() }

    func jobFinished(_ state: JobState) {
        Metrics.Counter(label: "flotilla_jobs_finished_total", dimensions: [("state", "\(state)")], factory: factory).increment()
    }

    /// A drill ended: counted by kind and verdict; its recovery and detection kept per kind.
    func drillEnded(_ report: Flotilla_V1_DrillReport) {
        let kind = DrillProfile.of(report.kind)?.name ?? "\(report.kind)"
        let verdict = switch report.verdict {
        case .pass: "pass"
        case .fail: "fail"
        default: "aborted"
        }
        Metrics.Counter(label: "flotilla_drills_total", dimensions: [("kind", kind), ("verdict", verdict)], factory: factory).increment()
        Metrics.Gauge(label: "flotilla_drill_last_recovery_seconds", dimensions: [("kind", kind)], factory: factory)
            .record(Double(report.recoveryMaxMs) / 1_000)
        Metrics.Gauge(label: "flotilla_drill_last_detection_seconds", dimensions: [("kind", kind)], factory: factory)
            .record(Double(report.detectionMs) / 1_000)
    }

    private static let submitBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]

    /// A submission request answered: `SubmitJobRequest`s and `SubmitJobsRequest`s apart,
    /// since a batch's acknowledgement covers many jobs.
    func submitTook(since started: ContinuousClock.Instant, batch: Bool) {
        let took = ContinuousClock.now - started
        let nanoseconds = took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000
        (batch ? batchSubmitLatency : submitLatency).recordNanoseconds(nanoseconds)
    }

    func applied(lastIndex: UInt64, syncs: UInt64) {
        logIndex.record(Double(lastIndex))
        logSyncs.record(Double(syncs))
    }

    /// Sets the scaling gauges (the coordinator's scaling sample, once a second):
    /// queue depth and oldest wait per tier and per model, GPUs total and
    /// allocated per type (READY and DRAINING workers), the p99 queue wait and
    /// the capacity change in force per GPU type (0: none).
    func recordScaling(_ signals: ScalingSignals, recommendedPercent: [String: Int32]) {
        var values: [(Series, Double)] = []
        for tier in ScalingSignals.tierOrder {
            let queue = signals.tiers[tier] ?? ScalingSignals.Queue()
            let name = Self.tierName(tier)
            values.append((Series(label: "flotilla_queue_depth", dimension: "tier", value: name), Double(queue.queued)))
            values.append((Series(label: "flotilla_queue_oldest_wait_seconds", dimension: "tier", value: name),
                           Double(queue.oldestWaitMs) / 1000))
        }
        for (model, queue) in signals.models {
            values.append((Series(label: "flotilla_model_queue_depth", dimension: "model", value: model),
                           Double(queue.queued)))
            values.append((Series(label: "flotilla_model_queue_oldest_wait_seconds", dimension: "model", value: model),
                           Double(queue.oldestWaitMs) / 1000))
        }
        for usage in signals.gpuTypes {
            values.append((Series(label: "flotilla_gpus_total", dimension: "gpu_type", value: usage.gpuType),
                           Double(usage.total)))
            values.append((Series(label: "flotilla_gpus_allocated", dimension: "gpu_type", value: usage.gpuType),
                           Double(usage.allocated)))
        }
        for (type, percent) in recommendedPercent {
            values.append((Series(label: "flotilla_capacity_recommendation_percent", dimension: "gpu_type", value: type),
                           Double(percent)))
        }
        for (series, value) in values {
            Metrics.Gauge(label: series.label, dimensions: [(series.dimension, series.value)], factory: factory)
                .record(value)
        }
        Metrics.Gauge(label: "flotilla_queue_wait_p99_seconds", factory: factory)
            .record(Double(signals.p99QueueWaitMs) / 1000)
        let current = Set(values.map(\.0))
        let gone = scalingSeries.withLockedValue { previous in
            defer { previous = current }
            return previous.subtracting(current)
        }
        for series in gone {
            Metrics.Gauge(label: series.label, dimensions: [(series.dimension, series.value)], factory: factory).destroy()
        }
    }

    private static func tierName(_ tier: Flotilla_V1_Tier) -> String {
        switch tier {
        case .premium: "premium"
        case .standard: "standard"
        case .free: "free"
        case .unspecified: "unspecified"
        case .UNRECOGNIZED(let value): "tier_\(value)"
        }
    }

    /// Sets the state gauges, then renders every metric in the text format.
    /// (GPUs per type are among the scaling gauges.)
    /// Breakers: `flotilla_breaker_state{model}` is 0 CLOSED, 1 HALF_OPEN, 2 OPEN.
    func render(summary: ClusterSummary, workersByState: [WorkerState: Int], ready: Bool,
                breakers: [Flotilla_V1_BreakerInfo] = [], raft: RaftGauges? = nil) -> [UInt8] {
        if let raft { record(raft) }
        let breakerGauges: [(String, [(String, String)], Int)] = breakers.flatMap { breaker in
            let state = switch breaker.state {
            case .open: 2
            case .halfOpen: 1
            default: 0
            }
            return [("flotilla_breaker_state", [("model", breaker.model)], state),
                    ("flotilla_breaker_recent_failures", [("model", breaker.model)], Int(breaker.recentFailures))]
        }
        let gauges: [(String, [(String, String)], Int)] = breakerGauges + [
            ("flotilla_jobs_queued", [], summary.jobsQueued),
            ("flotilla_jobs_running", [], summary.jobsRunning),
            ("flotilla_ready", [], ready ? 1 : 0),
        ] + WorkerState.allCases.map { ("flotilla_workers", [("state", "\($0)")], workersByState[$0] ?? 0) }
        for (label, dimensions, value) in gauges {
            Metrics.Gauge(label: label, dimensions: dimensions, factory: factory).record(Double(value))
        }
        return registry.emitToBuffer()
    }

    /// A replicated member's consensus gauges (absent alone).
    struct RaftGauges {
        var role: String
        var term: UInt64
        var commit: UInt64
        var applied: UInt64
        var lastIndex: UInt64
        var snapshotIndex: UInt64
        /// Since the member last heard from a leader (0 leading).
        var lastContactSeconds: Double
        var electionsStarted: Int
        var termsLed: UInt64
        var inboxDropped: UInt64
    }

    /// `flotilla_raft_role{role}` is 1 for the member's role and 0 for the others.
    private func record(_ raft: RaftGauges) {
        for role in ["leader", "follower", "candidate", "pre-candidate"] {
            Metrics.Gauge(label: "flotilla_raft_role", dimensions: [("role", role)], factory: factory)
                .record(role == raft.role ? 1 : 0)
        }
        let values: [(String, Double)] = [
            ("flotilla_raft_term", Double(raft.term)),
            ("flotilla_raft_commit_index", Double(raft.commit)),
            ("flotilla_raft_applied_index", Double(raft.applied)),
            ("flotilla_raft_last_index", Double(raft.lastIndex)),
            ("flotilla_raft_snapshot_index", Double(raft.snapshotIndex)),
            ("flotilla_raft_last_contact_seconds", raft.lastContactSeconds),
            ("flotilla_raft_elections_started", Double(raft.electionsStarted)),
            ("flotilla_raft_terms_led", Double(raft.termsLed)),
            ("flotilla_raft_inbox_dropped", Double(raft.inboxDropped)),
        ]
        for (label, value) in values { Metrics.Gauge(label: label, factory: factory).record(value) }
    }
}
