import Logging

extension DurableLog {
    /// Cuts a log that refuses to open back to what is whole: the snapshot plus the records
    /// that continue it without a gap, up to the first damage. Everything after that damage
    /// goes, later segments included, and the durability mark is set to what remains. The
    /// entries dropped are gone for good: this is the operator's decision, taken with
    /// `flotilla-coordinator repair-log`, never something an open does by itself.
    ///
    /// With `dryRun` it only inspects and reports what it would do. Either way it holds the
    /// directory's lock, so it cannot run beside an open log.
    ///
    /// - Throws: `LogError.noLog` for a directory without log files; `.directoryLocked`;
    ///   `.corruptSnapshot` (a snapshot cannot be rebuilt from a prefix); `LogError.io`.
    public static func repair(
        directory: String, dryRun: Bool = false, logger: Logger = Logger(label: "flotilla.log")
    ) throws -> LogRepairReport {
        try LogRepair(directory: directory).run(dryRun: dryRun, logger: logger)
    }
}

/// `DurableLog.repair`: the survey's prefix kept, the rest cut.
struct LogRepair {
    let directory: String

    func run(dryRun: Bool, logger: Logger) throws -> LogRepairReport {
        let names = try DiskFile.list(directory)
        guard
            names.contains(where: {
                $0 == DurabilityMarker.fileName || Segment.firstIndex(fileName: $0) != nil
                    || SnapshotStore.parse(fileName: $0) != nil
            })
        else { throw LogError.noLog(directory: directory) }
        let directoryLock = try DirectoryLock(directory: directory)
        defer { withExtendedLifetime(directoryLock) {} }

        let snapshot = try SnapshotStore(directory: directory).newest()
        let snapshotTerm = snapshot?.term ?? 0
        var markerProblem: String?
        var mark: DurableMark?
        do {
            mark = try DurabilityMarker.read(directory: directory)
            if mark == nil { markerProblem = "missing" }
        } catch LogError.corruptDurableMarker(_, let reason) {
            markerProblem = "unreadable: \(reason)"
        }
        let survey = try SegmentSurvey(directory: directory, snapshotIndex: snapshot?.index ?? 0)
        let kept = DurableMark(
            index: survey.lastIndex, term: survey.term(at: survey.lastIndex, snapshotTerm: snapshotTerm) ?? 0)
        if let mark, mark.index <= kept.index, let term = survey.term(at: mark.index, snapshotTerm: snapshotTerm),
            term != mark.term
        {
            markerProblem = "it named entry \(mark.index) of term \(mark.term), the log holds term \(term)"
        }

        // The damaged segment is cut at the damage; removed when nothing before the damage is kept.
        var truncated: (path: String, offset: Int)?
        var removed = survey.filesBeyond.reversed().map(\.path)
        var bytesCut = survey.filesBeyond.reduce(0) { $0 + $1.size }
        if let damage = survey.damage, case .scan = damage.kind {
            bytesCut += damage.size - damage.offset
            if damage.offset == 0 {
                removed.insert(damage.path, at: 0)
            } else {
                truncated = (damage.path, damage.offset)
            }
        }
        let upper = max(kept.index, mark?.index ?? 0, survey.highestIndexBeyond)
        let report = LogRepairReport(
            directory: directory, dryRun: dryRun, keptThrough: kept.index, durableThrough: mark?.index,
            droppedEntries: upper - kept.index, wholeRecordsCut: survey.recordsBeyond, bytesCut: bytesCut,
            truncatedSegment: truncated?.path, truncatedAt: truncated?.offset, removedFiles: removed,
            damage: survey.damage?.summary
                ?? (mark.map { $0.index > kept.index } == true ? survey.endDescription : nil),
            markerProblem: markerProblem, rewritesMarker: mark != kept)
        guard !dryRun, !report.changesNothing else { return report }

        // The mark first, as for a suffix truncation: a crash part way through leaves a log no
        // shorter than its mark, and running the repair again finishes it.
        if mark != nil {
            try DurabilityMarker.open(directory: directory).record(kept)
        } else {
            _ = try DurabilityMarker.create(directory: directory, mark: kept)
        }
        // Newest first, each removal synced, so a crash never leaves a gap.
        for path in removed {
            try DiskFile.remove(path)
            try DiskFile.syncDirectory(directory)
        }
        if let truncated {
            try DiskFile(path: truncated.path).truncate(to: truncated.offset)
        }
        logger.warning(
            "\(report)",
            metadata: [
                "flotilla.log.directory": "\(directory)",
                "flotilla.log.kept_through": "\(kept.index)",
                "flotilla.log.dropped_entries": "\(report.droppedEntries)",
            ])
        return report
    }
}
