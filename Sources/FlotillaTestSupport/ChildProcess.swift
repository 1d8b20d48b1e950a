import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long-running child process for integration tests: started at once, its
/// stdout and stderr in one log file, signalled for real (SIGKILL, SIGSTOP,
/// SIGTERM) and reaped. `stop()` kills it if it still runs; harnesses call
/// it for every child they start, whatever the test's outcome.
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    public let logURL: URL
    private let process: Process

    public init(name: String, executable: URL, arguments: [String] = [], environment: [String: String] = [:],
                currentDirectory: URL? = nil, logURL: URL) throws {
        self.name = name
        self.logURL = logURL
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FLOTILLA_") }
        merged.merge(environment) { _, new in new }
        process.environment = merged
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        self.process = process
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// The exit status, or the negated signal number; nil while running.
    public var exitStatus: Int32? {
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    }

    public func signal(_ signal: Int32) {
        guard process.isRunning else { return }
        _ = kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end; false if it still runs after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// SIGKILL and reap.
    public func killNow() async {
        signal(SIGCONT)
        signal(SIGKILL)
        await waitForExit(timeout: .seconds(10))
    }

    /// Kills the process if it still runs (a paused one is resumed first so it can die).
    public func stop() async { await killNow() }

    public var output: String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// Waits until the output contains `text`; throws with the output's tail if
    /// it does not within `timeout` or the process exits first.
    public func waitForOutput(_ text: String, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while !output.contains(text) {
            if !process.isRunning, !output.contains(text) {
                throw ChildProcessError("\(name) exited (\(exitStatus ?? 0)) before printing \"\(text)\":\n\(tail())")
            }
            if ContinuousClock.now >= deadline {
                throw ChildProcessError("\(name) did not print \"\(text)\" within \(timeout):\n\(tail())")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// The last lines of the output, for failure messages.
    public func tail(_ lines: Int = 30) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then released).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ChildProcessError("socket() failed: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw ChildProcessError("bind() failed: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw ChildProcessError("getsockname() failed: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
