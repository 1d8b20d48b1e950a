import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What /proc says about a process, for tests and benchmarks.
public enum ProcessFacts {
    /// Running, and not a zombie waiting for its parent (dead for our purposes).
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true)
    }

    /// VmRSS, in KiB.
    public static func residentKiB(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let value = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Int($0) })
        else { throw ChildProcessError("no VmRSS for process \(pid)") }
        return value
    }
}
