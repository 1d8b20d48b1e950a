import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A record per running job process group in the worker's data directory, so that a
/// worker restarted after a crash stops whatever its previous incarnation left running
/// before it registers (and before the coordinator hands that GPU to anyone).
///
/// Normally a job's supervisor kills it when the worker dies; the records cover the case
/// where the supervisor died too (an operator's `kill -9` of the group leader).
public struct LeftoverJobs: Sendable {
    public let directory: String

    public init(dataDirectory: String) {
        directory = dataDirectory + "/processes"
    }

    /// Records process group `pgid` (its leader's pid).
    func record(pgid: pid_t) {
        guard let start = Self.startTime(of: pgid) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? "\(pgid) \(start)\n".write(toFile: path(pgid), atomically: true, encoding: .utf8)
    }

    func forget(pgid: pid_t) {
        try? FileManager.default.removeItem(atPath: path(pgid))
    }

    /// Kills every recorded group that still has members started no earlier than its
    /// leader was (an older process with a reused group id is not ours), waits for them to
    /// go, and removes the records. Returns the pids killed.
    @discardableResult
    public func stopAll() -> [pid_t] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var killed: [pid_t] = []
        for name in names {
            defer { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
            guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else { continue }
            let fields = text.split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, let pgid = pid_t(fields[0]), let start = UInt64(fields[1]), pgid > 1 else { continue }
            let members = Self.members(ofGroup: pgid).filter { (Self.startTime(of: $0) ?? 0) >= start }
            for pid in members { kill(pid, SIGKILL) }
            killed += members
        }
        // Reaped by init (they are not our children): wait until they are gone.
        let deadline = ContinuousClock.now + .seconds(5)
        while killed.contains(where: { kill($0, 0) == 0 && Self.state(of: $0) != "Z" }), ContinuousClock.now < deadline {
            usleep(10_000)
        }
        return killed
    }

    private func path(_ pgid: pid_t) -> String { directory + "/\(pgid)" }

    /// `/proc/PID/stat` fields after the command name: state is 3, pgrp 5, starttime 22.
    private static func statFields(of pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    static func startTime(of pid: pid_t) -> UInt64? {
        guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    private static func state(of pid: pid_t) -> String? {
        statFields(of: pid).map { String($0[0]) }
    }

    static func members(ofGroup pgid: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(pid_t.init).filter { pid in
            guard let fields = statFields(of: pid), fields.count > 2 else { return false }
            return pid_t(fields[2]) == pgid
        }
    }
}
