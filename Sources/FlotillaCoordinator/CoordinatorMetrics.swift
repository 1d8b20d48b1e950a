import CoreMetrics
import FlotillaCoordinatorState
import Metrics
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

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "flotilla_submit_seconds": [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                        .milliseconds(250), .seconds(1)],
        ]
        self.factory = factory
        submitted = Metrics.Counter(label: "flotilla_jobs_submitted_total", factory: factory)
        logIndex = Metrics.Gauge(label: "flotilla_log_last_index", factory: factory)
        logSyncs = Metrics.Gauge(label: "flotilla_log_fsyncs", factory: factory)
        submitLatency = Metrics.Timer(label: "flotilla_submit_seconds", factory: factory)
    }

    func jobSubmitted() { submitted.increment() }

    func jobFinished(_ state: JobState) {
        Metrics.Counter(label: "flotilla_jobs_finished_total", dimensions: [("state", "\(state)")], factory: factory).increment()
    }

    func submitTook(nanoseconds: UInt64) { submitLatency.recordNanoseconds(Int64(clamping: nanoseconds)) }

    func applied(lastIndex: UInt64, syncs: UInt64) {
        logIndex.record(Double(lastIndex))
        logSyncs.record(Double(syncs))
    }

    /// Sets the state gauges, then renders every metric in the text format.
    func render(summary: ClusterSummary, workersByState: [WorkerState: Int], ready: Bool) -> [UInt8] {
        let gauges: [(String, [(String, String)], Int)] = [
            ("flotilla_jobs_queued", [], summary.jobsQueued),
            ("flotilla_jobs_running", [], summary.jobsRunning),
            ("flotilla_gpus_total", [], summary.gpusTotal),
            ("flotilla_gpus_allocated", [], summary.gpusAllocated),
            ("flotilla_ready", [], ready ? 1 : 0),
        ] + WorkerState.allCases.map { ("flotilla_workers", [("state", "\($0)")], workersByState[$0] ?? 0) }
        for (label, dimensions, value) in gauges {
            Metrics.Gauge(label: label, dimensions: dimensions, factory: factory).record(Double(value))
        }
        return registry.emitToBuffer()
    }
}
