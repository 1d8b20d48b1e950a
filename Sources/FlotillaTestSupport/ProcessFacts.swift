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

    /// User plus system CPU time the process has used, in seconds (/proc/PID/stat, at 100 ticks a second).
    public static func cpuSeconds(_ pid: pid_t) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name's closing parenthesis; utime and stime are the 12th and 13th.
        guard let rest = stat.split(separator: ")").last?.split(separator: " "), rest.count > 13,
              let user = Double(rest[11]), let system = Double(rest[12])
        else { throw ChildProcessError("no CPU times for process \(pid)") }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
