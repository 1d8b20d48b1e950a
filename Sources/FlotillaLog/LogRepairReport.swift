/// What `DurableLog.repair` found in a log directory and did, or in a dry run would do.
public struct LogRepairReport: Sendable, Hashable, CustomStringConvertible {
    public var directory: String
    public var dryRun: Bool
    /// The last entry kept: the snapshot plus the whole records that continue it without a
    /// gap, up to the first damage. The repaired log's `lastIndex`.
    public var keptThrough: UInt64
    /// What the durability mark said was durable; nil when the file was absent or unreadable
    /// (`markerProblem` says which), and then entries lost without a trace are not counted.
    public var durableThrough: UInt64?
    /// Entries past `keptThrough` that the repaired log no longer has: through the mark or
    /// the highest whole record found after the damage, whichever is further.
    public var droppedEntries: UInt64
    /// Whole records that were still on disk after the damage, which the repair cuts.
    public var wholeRecordsCut: Int
    /// Bytes cut from the damaged segment plus the sizes of the files removed.
    public var bytesCut: Int
    /// The segment cut short at the damage, and the offset it now ends at.
    public var truncatedSegment: String?
    public var truncatedAt: Int?
    /// Segment files removed: those wholly past the damage (newest first).
    public var removedFiles: [String]
    /// The damage found, in words; nil when the segments are whole.
    public var damage: String?
    /// Why the durability mark had to be rewritten when it was not merely behind: absent,
    /// unreadable, or naming another term.
    public var markerProblem: String?
    /// Whether the mark is (or would be) rewritten to `keptThrough`.
    public var rewritesMarker: Bool

    /// True when the log needed nothing: whole segments and a mark that agrees.
    public var changesNothing: Bool {
        truncatedSegment == nil && removedFiles.isEmpty && !rewritesMarker
    }

    public var description: String {
        if changesNothing {
            return "log in \(directory) needs no repair: entries through \(keptThrough) are whole "
                + "and the durability marker agrees"
        }
        var parts: [String] = []
        let range =
            droppedEntries == 0
            ? "no entry"
            : "\(droppedEntries) \(droppedEntries == 1 ? "entry" : "entries") "
                + "(\(keptThrough + 1) through \(keptThrough + droppedEntries))"
        parts.append(
            dryRun
                ? "repair of log in \(directory) would keep entries through \(keptThrough) and drop \(range)"
                : "repaired log in \(directory): kept entries through \(keptThrough) and dropped \(range)")
        if wholeRecordsCut > 0 {
            parts.append(
                "\(wholeRecordsCut) whole \(wholeRecordsCut == 1 ? "record" : "records") after the damage "
                    + "\(dryRun ? "would be" : "were") cut")
        }
        if durableThrough == nil {
            parts.append(
                "the durability marker was \(markerProblem ?? "missing"), "
                    + "so entries lost without a trace are not counted")
        }
        var cuts: [String] = []
        if let truncatedSegment, let truncatedAt { cuts.append("\(truncatedSegment) cut at offset \(truncatedAt)") }
        if !removedFiles.isEmpty { cuts.append("removed " + removedFiles.joined(separator: ", ")) }
        if !cuts.isEmpty {
            parts.append("\(bytesCut) bytes \(dryRun ? "would go" : "went"): " + cuts.joined(separator: ", "))
        }
        if rewritesMarker {
            let why = durableThrough != nil ? markerProblem.map { " (\($0))" } ?? "" : ""
            parts.append("the durability marker \(dryRun ? "would be" : "was") set to entry \(keptThrough)\(why)")
        }
        if let damage { parts.append("damage: \(damage)") }
        if dryRun { parts.append("nothing was changed") }
        return parts.joined(separator: "; ")
    }
}
