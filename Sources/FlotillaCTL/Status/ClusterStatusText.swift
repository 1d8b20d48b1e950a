import FlotillaProto

/// The human form of `status`: a summary block, then the coordinators, the tier and model
/// queues, GPU utilisation per type and the scaling recommendations. Empty sections are
/// left out, except capacity, which says when no change is recommended.
struct ClusterStatusText {
    let status: Flotilla_V1_ClusterStatusResponse

    init(_ status: Flotilla_V1_ClusterStatusResponse) {
        self.status = status
    }

    var text: String {
        var fields = Fields()
        fields.append("Cluster", status.cluster + (status.region.isEmpty ? "" : " (region \(status.region))"))
        fields.append("Workers", "\(status.workersReady) ready of \(status.workersTotal)")
        fields.append("GPUs", "\(status.gpusAllocated) allocated of \(status.gpusTotal)")
        fields.append(
            "Jobs",
            "\(status.jobsQueued) queued, \(status.jobsRunning) running, "
                + "\(status.jobsSucceeded) succeeded, \(status.jobsFailed) failed")
        fields.append("Wait", "p99 \(Self.spoken(status.p99QueueWaitMs)) from queue to start (last 10 minutes)")
        var sections = [fields.text]
        if !status.coordinators.isEmpty {
            let table = PeerTable.text(status.coordinators)
            sections.append(table)
        }
        if !status.queues.isEmpty {
            var table = Table("TIER", "QUEUED", "OLDEST-WAIT")
            for queue in status.queues {
                let wait = queue.queued == 0 ? "-" : Duration.milliseconds(Int64(queue.oldestWaitMs)).spoken
                table.append([queue.tier.name, "\(queue.queued)", wait])
            }
            sections.append(table.text)
        }
        if !status.modelQueues.isEmpty {
            var table = Table("MODEL", "QUEUED", "OLDEST-WAIT")
            for queue in status.modelQueues {
                table.append([queue.model, "\(queue.queued)", queue.queued == 0 ? "-" : Self.spoken(queue.oldestWaitMs)])
            }
            sections.append(table.text)
        }
        if !status.gpuTypes.isEmpty {
            var table = Table("GPU-TYPE", "ALLOCATED", "UTILISATION")
            for usage in status.gpuTypes {
                table.append([
                    usage.gpuType.isEmpty ? "-" : usage.gpuType, "\(usage.allocated)/\(usage.total)",
                    Self.utilisation(usage),
                ])
            }
            sections.append(table.text)
        }
        sections.append(capacity)
        if !status.recommendations.isEmpty {
            sections.append((["Recommendations:"] + status.recommendations.map { "  - " + $0 }).joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n")
    }

    /// "Capacity:" and one line per GPU type ("H100  +20%  reason"), or that none is recommended.
    var capacity: String {
        guard !status.capacity.isEmpty else { return "no capacity change recommended" }
        // Empty headers, so only the rows set the column widths; the title replaces the header line.
        var table = Table("", "", "")
        for change in status.capacity {
            table.append([
                change.gpuType.isEmpty ? "-" : change.gpuType, Self.percent(change.changePercent),
                change.reason.isEmpty ? "-" : change.reason,
            ])
        }
        let rows = table.text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        return (["Capacity:"] + rows.map { "  " + $0 }).joined(separator: "\n")
    }

    /// "+20%", "-10%", "0%".
    static func percent(_ change: Int32) -> String {
        change > 0 ? "+\(change)%" : "\(change)%"
    }

    /// Allocated of total as a whole percentage; "-" when the type has no GPUs.
    static func utilisation(_ usage: Flotilla_V1_GpuTypeUsage) -> String {
        guard usage.total > 0 else { return "-" }
        return "\((UInt64(usage.allocated) * 100 + UInt64(usage.total) / 2) / UInt64(usage.total))%"
    }

    private static func spoken(_ milliseconds: UInt64) -> String {
        Duration.milliseconds(Int64(clamping: milliseconds)).spoken
    }
}
