import FlotillaProto

/// The human form of `status`: a summary block, then the coordinators and the tier queues.
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
        var sections = [fields.text]
        if !status.coordinators.isEmpty {
            var table = Table("COORDINATOR", "ADDRESS", "STATE", "TERM", "COMMIT")
            for coordinator in status.coordinators {
                table.append([
                    coordinator.name, coordinator.address.isEmpty ? "-" : coordinator.address, coordinator.state.name,
                    "\(coordinator.term)", "\(coordinator.commitIndex)",
                ])
            }
            sections.append(table.text)
        }
        if !status.queues.isEmpty {
            var table = Table("TIER", "QUEUED", "OLDEST-WAIT")
            for queue in status.queues {
                let wait = queue.queued == 0 ? "-" : Duration.milliseconds(Int64(queue.oldestWaitMs)).spoken
                table.append([queue.tier.name, "\(queue.queued)", wait])
            }
            sections.append(table.text)
        }
        if !status.recommendations.isEmpty {
            sections.append((["Recommendations:"] + status.recommendations.map { "  - " + $0 }).joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n")
    }
}
