import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The process between a worker and one job: `flotilla-worker supervise LEASE_FD TIMEOUT_MS
/// -- COMMAND...`. It starts the job in its own process group and kills that whole group
/// the moment the worker's lease lapses, so a job can never outlive its worker's claim:
///
/// * the worker dies (SIGKILL, crash): the lease pipe reads end-of-file, the job dies at once,
///   whatever signals it ignores;
/// * the worker hangs or is stopped (SIGSTOP), or fences itself after losing the coordinator:
///   no renewal arrives within the timeout, and the job dies then.
///
/// The worker renews by writing a byte to the pipe while its heartbeats are acknowledged
/// (`SelfFencing`). The supervisor exits with the job's status, so the worker sees the job's
/// own exit code; it ignores the stop signals the worker sends the group (SIGTERM, SIGUSR1)
/// and leaves them to the job.
public enum JobSupervisor {
    /// The argument that selects this mode of the worker executable.
    public static let mode = "supervise"

    /// `flotilla-worker` beside the running executable: the worker itself, or, in tests,
    /// the product built next to the test bundle. Nil when there is none.
    public static let executable: String? = {
        guard let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let candidate = URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("flotilla-worker").path
        return access(candidate, X_OK) == 0 ? candidate : nil
    }()

    /// Parses `LEASE_FD TIMEOUT_MS -- COMMAND...` and runs; never returns.
    public static func main(_ arguments: [String]) -> Never {
        guard arguments.count >= 4, let fd = Int32(arguments[0]), let timeout = Int(arguments[1]), arguments[2] == "--" else {
            fail("usage: flotilla-worker supervise LEASE_FD TIMEOUT_MS -- COMMAND [ARGS...]")
        }
        run(leaseDescriptor: fd, timeoutMilliseconds: timeout, command: Array(arguments.dropFirst(3)))
    }

    static func run(leaseDescriptor lease: Int32, timeoutMilliseconds: Int, command: [String]) -> Never {
        for stop in [SIGTERM, SIGUSR1, SIGINT, SIGHUP, SIGPIPE] { signal(stop, SIG_IGN) }
        let job = spawn(command)
        var lastRenewal = monotonicMilliseconds()
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            var raw: Int32 = 0
            let reaped = waitpid(job, &raw, WNOHANG)
            if reaped == job { exitLike(raw) }
            var poll = pollfd(fd: lease, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&poll, 1, 100)
            if ready > 0 {
                let count = read(lease, &buffer, buffer.count)
                if count > 0 {
                    lastRenewal = monotonicMilliseconds()
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    killGroup("the worker is gone (lease closed)")
                }
            }
            if monotonicMilliseconds() - lastRenewal > timeoutMilliseconds {
                killGroup("the worker's lease lapsed (\(timeoutMilliseconds) ms without renewal)")
            }
        }
    }

    /// Starts the job in this process's group with default signal dispositions and no
    /// descriptors beyond stdin, stdout and stderr (the lease stays with the supervisor).
    private static func spawn(_ command: [String]) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        if let closeFrom = SpawnedProcess.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        SpawnedProcess.resetSignals(&attributes)
        let argv = command.map { strdup($0) } + [nil]
        var pid: pid_t = 0
        let result = command[0].contains("/")
            ? posix_spawn(&pid, command[0], &actions, &attributes, argv, environ)
            : posix_spawnp(&pid, command[0], &actions, &attributes, argv, environ)
        guard result == 0 else { fail("cannot start \(command[0]): \(String(cString: strerror(result)))", status: 127) }
        return pid
    }

    private static func killGroup(_ reason: String) -> Never {
        say("\(reason); killing the job")
        kill(-getpgrp(), SIGKILL)
        Glibc.exit(137)  // not reached: the group includes this process
    }

    /// Exits as the job did: its status, or the signal that ended it.
    private static func exitLike(_ raw: Int32) -> Never {
        if raw & 0x7f == 0 { Glibc.exit((raw >> 8) & 0xff) }
        let signalNumber = raw & 0x7f
        signal(signalNumber, SIG_DFL)
        kill(getpid(), signalNumber)
        Glibc.exit(128 + signalNumber)
    }

    private static func fail(_ message: String, status: Int32 = 2) -> Never {
        say(message)
        Glibc.exit(status)
    }

    /// One line on stderr, best effort: with the worker gone its pipe is broken, and
    /// FileHandle would trap on EPIPE before the job is killed.
    private static func say(_ message: String) {
        let line = Array("flotilla-supervise: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000 + now.tv_nsec / 1_000_000
    }
}
