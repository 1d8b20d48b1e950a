import FlotillaProto

/// Failover drill records (PROTOCOL.md §14). The leader that runs a drill
/// proposes `DrillStarted` and later `DrillEnded`; keeping them in the state
/// means a new leader can list them, and refuses a second drill while one runs.
extension CoordinatorState {
    /// How many drill records the state keeps (the oldest go first).
    public static let drillsKept = 100

    /// Every kept drill, oldest first.
    public var drills: [Flotilla_V1_DrillReport] { drillRecords }

    /// The drill that has started and not ended, if any.
    public var runningDrill: Flotilla_V1_DrillReport? { drillRecords.last { $0.verdict == .running } }

    public func drill(_ id: String) -> Flotilla_V1_DrillReport? { drillRecords.last { $0.id == id } }

    /// The id a `DrillStarted` at this index gets.
    public static func drillID(index: UInt64) -> String { "d-\(index)" }

    mutating func startDrill(_ report: Flotilla_V1_DrillReport, index: UInt64, at: UInt64, _ outcome: inout CommandOutcome) {
        if let running = runningDrill {
            return outcome.reject(.failedPrecondition, "drill \(running.id) (\(running.kind)) is still running; one drill at a time")
        }
        guard report.kind != .unspecified else { return outcome.reject(.invalidArgument, "a drill needs a kind") }
        var record = report
        record.id = Self.drillID(index: index)
        record.verdict = .running
        record.startedUnixMs = at
        drillRecords.append(record)
        if drillRecords.count > Self.drillsKept { drillRecords.removeFirst(drillRecords.count - Self.drillsKept) }
        outcome.drillID = record.id
    }

    mutating func endDrill(_ report: Flotilla_V1_DrillReport, at: UInt64, _ outcome: inout CommandOutcome) {
        guard let position = drillRecords.lastIndex(where: { $0.id == report.id }) else {
            return outcome.reject(.notFound, "no drill \(report.id)")
        }
        guard drillRecords[position].verdict == .running else {
            outcome.duplicate = true
            return outcome.reject(.failedPrecondition, "drill \(report.id) has already ended")
        }
        guard [.pass, .fail, .aborted].contains(report.verdict) else {
            return outcome.reject(.invalidArgument, "drill \(report.id) cannot end as \(report.verdict)")
        }
        var record = report
        record.startedUnixMs = drillRecords[position].startedUnixMs
        record.endedUnixMs = at
        drillRecords[position] = record
        outcome.drillID = record.id
    }

    mutating func restoreDrills(_ records: [Flotilla_V1_DrillReport]) throws {
        var ids = Set<String>()
        for record in records {
            guard !record.id.isEmpty, ids.insert(record.id).inserted else {
                throw SnapshotError("drill \"\(record.id)\" is unnamed or appears twice")
            }
        }
        guard records.filter({ $0.verdict == .running }).count <= 1 else {
            throw SnapshotError("more than one drill is running")
        }
        drillRecords = Array(records.suffix(Self.drillsKept))
    }
}
