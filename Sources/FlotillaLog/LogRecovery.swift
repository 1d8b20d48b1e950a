import Logging

/// Opening a log directory after a clean shutdown or a crash. What to keep is decided from
/// the survey and the durability mark before any byte changes, so an open that refuses
/// leaves the disk as it found it; only then are a torn tail and leftovers cut.
enum LogRecovery {
    struct Recovered {
        var snapshot: (index: UInt64, term: UInt64)?
        var segments: [Segment]
        var marker: DurabilityMarker
        var mark: DurableMark
    }

    static func recover(directory: String, logger: Logger) throws -> Recovered {
        let snapshots = SnapshotStore(directory: directory)
        let snapshot = try snapshots.newest()
        let mark = try DurabilityMarker.read(directory: directory)
        let survey = try SegmentSurvey(directory: directory, snapshotIndex: snapshot?.index ?? 0)
        let recovered = DurableMark(
            index: survey.lastIndex, term: survey.term(at: survey.lastIndex, snapshotTerm: snapshot?.term ?? 0) ?? 0)
        try check(survey, against: mark, snapshotTerm: snapshot?.term ?? 0)

        try snapshots.removeLeftovers(keeping: snapshot)
        if let damage = survey.damage {
            try cutTornTail(damage, logger: logger)
        }
        for name in survey.obsolete {
            try DiskFile.remove(directory + "/" + name)
        }
        if !survey.obsolete.isEmpty { try DiskFile.syncDirectory(directory) }

        let marker: DurabilityMarker
        if let mark {
            try DiskFile.remove(directory + "/" + DurabilityMarker.temporaryName)  // a repair's, cut short
            marker = try DurabilityMarker.open(directory: directory)
            // Entries synced by a writer that crashed before recording them: they stay, so cover them.
            if mark != recovered { try marker.record(recovered) }
        } else {
            if survey.fileCount > 0 || snapshot != nil {
                logger.notice(
                    """
                    log in \(directory) has no \(DurabilityMarker.fileName) file (written before durability marks); \
                    created one at entry \(recovered.index) from what is on disk
                    """,
                    metadata: ["flotilla.log.directory": "\(directory)"])
            }
            marker = try DurabilityMarker.create(directory: directory, mark: recovered)
        }
        return Recovered(snapshot: snapshot, segments: survey.segments, marker: marker, mark: recovered)
    }

    /// Refuses damage a crash does not leave, and a log that ends before its mark: the
    /// entries between were acknowledged, so only an explicit repair may drop them.
    private static func check(_ survey: SegmentSurvey, against mark: DurableMark?, snapshotTerm: UInt64) throws {
        if let damage = survey.damage, !damage.isTornTail {
            throw damage.error(directory: survey.directory)
        }
        guard let mark else { return }
        if mark.index > survey.lastIndex {
            throw LogError.durableEntriesMissing(
                directory: survey.directory, durableThrough: mark.index, recoverableThrough: survey.lastIndex,
                reason: survey.damage?.summary ?? survey.endDescription)
        }
        if let term = survey.term(at: mark.index, snapshotTerm: snapshotTerm), term != mark.term {
            throw LogError.durableTermMismatch(
                directory: survey.directory, index: mark.index, durableTerm: mark.term, logTerm: term)
        }
    }

    /// Cuts what a crash left after the last whole record, all of it past the mark.
    private static func cutTornTail(_ damage: SegmentDamage, logger: Logger) throws {
        let count = damage.size - damage.offset
        try DiskFile(path: damage.path).truncate(to: damage.offset)
        logger.warning(
            """
            truncated \(count) bytes of torn/corrupt tail at segment \(damage.path) offset \(damage.offset): \
            \(damage.tornTailReason)
            """,
            metadata: [
                "flotilla.log.segment": "\(damage.path)",
                "flotilla.log.offset": "\(damage.offset)",
                "flotilla.log.bytes": "\(count)",
            ])
    }
}
