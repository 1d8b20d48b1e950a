import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with posix_spawn, in its own process group, with
/// every signal at its default disposition. Foundation's `Process` passes on
/// the worker's ignored signals (ServiceLifecycle ignores SIGTERM to catch it
/// as an event), and a shell cannot trap a signal ignored on entry: a job
/// would never see the SIGTERM of a clean stop.
final class SpawnedProcess: Sendable {
    enum Status: Sendable, Hashable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        /// The exit status, or the negated signal number (PROTOCOL.md, AttemptResult.exit_code).
        var exitCode: Int32 {
            switch self {
            case .exited(let code): return code
            case .signalled(let signal): return -signal
            }
        }

        var description: String {
            switch self {
            case .exited(let code): return "exit status \(code)"
            case .signalled(let signal): return "killed by signal \(signal)"
            }
        }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var executable: String
        var code: Int32
        var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    /// How a job is run under a `JobSupervisor`: the worker executable that has the
    /// `supervise` mode, and how long the job may outlive the worker's last renewal.
    struct Supervision: Sendable, Hashable {
        var executable: String
        var leaseTimeout: Duration
    }

    let pid: pid_t
    /// The read ends of the child's stdout and stderr; `LineReader`s own and close them.
    let standardOutput: Int32
    let standardError: Int32
    /// The write end of the supervisor's lease pipe (nil: unsupervised), closed on reaping.
    private let state: Locked<(status: Status?, waiters: [CheckedContinuation<Status, Never>], lease: Int32?)>

    private init(pid: pid_t, standardOutput: Int32, standardError: Int32, lease: Int32?) {
        self.pid = pid
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.state = Locked((nil, [], lease))
    }

    var isSupervised: Bool { state.withLock { $0.lease != nil } }

    /// Starts `executable` (a path, or a name looked up on the worker's PATH) with
    /// exactly `environment`, stdin from /dev/null and stdout/stderr on pipes. With
    /// `supervision`, the spawned process is the supervisor, which starts the job.
    static func spawn(_ executable: String, arguments: [String], environment: [String: String],
                      supervision: Supervision? = nil) throws -> SpawnedProcess {
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        var lease: [Int32] = [-1, -1]
        guard makePipe(&output) else { throw SpawnError(executable: executable, code: errno) }
        guard makePipe(&errors) else {
            let code = errno
            close(output[0]); close(output[1])
            throw SpawnError(executable: executable, code: code)
        }
        if supervision != nil {
            guard makePipe(&lease) else {
                let code = errno
                [output[0], output[1], errors[0], errors[1]].forEach { _ = close($0) }
                throw SpawnError(executable: executable, code: code)
            }
            // A renewal must never block the worker, even if the supervisor stopped reading.
            _ = fcntl(lease[1], F_SETFL, fcntl(lease[1], F_GETFL) | O_NONBLOCK)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        if supervision != nil { posix_spawn_file_actions_adddup2(&actions, lease[0], 3) }
        // The job inherits nothing else of the worker's: no sockets, no files
        // another thread has open (a script being written would fail with ETXTBSY).
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, supervision == nil ? 3 : 4) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        Self.resetSignals(&attributes, flags: Int16(POSIX_SPAWN_SETPGROUP))

        let program = supervision?.executable ?? executable
        var command = [executable] + arguments
        if let supervision {
            command = [program, JobSupervisor.mode, "3", "\(supervision.leaseTimeout.milliseconds)", "--"] + command
        }
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        var result: Int32 = 0
        // ETXTBSY: another thread's child, forked while the file was open for
        // writing, has not reached exec yet; it goes away within moments.
        for attempt in 0..<5 {
            result = program.contains("/")
                ? posix_spawn(&pid, program, &actions, &attributes, argv, envp)
                : posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
            guard result == ETXTBSY else { break }
            usleep(UInt32(10_000 << attempt))
        }
        close(output[1])
        close(errors[1])
        if supervision != nil { close(lease[0]) }
        guard result == 0 else {
            close(output[0])
            close(errors[0])
            if supervision != nil { close(lease[1]) }
            throw SpawnError(executable: program, code: result)
        }
        let process = SpawnedProcess(pid: pid, standardOutput: output[0], standardError: errors[0],
                                     lease: supervision == nil ? nil : lease[1])
        process.reapOnItsOwnThread()
        return process
    }

    /// Every signal at its default disposition and none blocked in the child (plus `flags`):
    /// a job must see the SIGTERM of a clean stop even if its parent ignores it.
    static func resetSignals(_ attributes: inout posix_spawnattr_t, flags: Int16 = 0) {
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Int32(1)..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | flags)
    }

    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, a GNU extension
    /// Swift cannot see in the headers.
    static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// A pipe whose ends are not inherited by other children (pipe2 is not
    /// visible from Swift on glibc).
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// A blocking waitpid on a thread of its own; the status is kept for `exit()`.
    private func reapOnItsOwnThread() {
        let pid = self.pid
        let state = self.state
        Thread.detachNewThread {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            // WIFEXITED / WTERMSIG are macros Swift cannot import.
            let status: Status = (raw & 0x7f) == 0 ? .exited((raw >> 8) & 0xff) : .signalled(raw & 0x7f)
            let waiters = state.withLock { value in
                value.status = status
                if let lease = value.lease { close(lease) }
                value.lease = nil
                defer { value.waiters = [] }
                return value.waiters
            }
            waiters.forEach { $0.resume(returning: status) }
        }
    }

    /// The status once the process has exited (nil while it runs).
    var status: Status? { state.withLock { $0.status } }

    /// Waits for the process to exit.
    func exit() async -> Status {
        await withCheckedContinuation { continuation in
            let status = state.withLock { value -> Status? in
                if value.status == nil { value.waiters.append(continuation) }
                return value.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// Sends `signal` to the process itself, unless it has already been reaped
    /// (its pid may then belong to someone else).
    func signal(_ signal: Int32) {
        state.withLock { value in
            if value.status == nil { _ = kill(pid, signal) }
        }
    }

    /// Tells the supervisor the worker still holds its claim on the job (see `JobSupervisor`).
    func renewLease() {
        state.withLock { value in
            guard let lease = value.lease else { return }
            var byte: UInt8 = 1
            _ = write(lease, &byte, 1)
        }
    }

    /// Sends `signal` to the whole process group: the job and whatever it started.
    func signalGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// An executable's path: itself when it names a path, else the first match on PATH.
    static func resolve(_ executable: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if executable.contains("/") { return access(executable, X_OK) == 0 ? executable : nil }
        for directory in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
