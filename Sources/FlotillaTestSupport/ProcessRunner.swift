import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a child process ended and what it printed.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// True when the process outlived its timeout and was killed.
    public let timedOut: Bool
}

/// Runs `executable` to completion and collects its output. Output goes to temporary files
/// rather than pipes, so a chatty child can never block on a full pipe; a child still running
/// after `timeout` is killed with SIGKILL. Blocking waits run on their own thread, not the
/// Swift concurrency pool.
public func runProcess(
    _ executable: URL, arguments: [String] = [], environment: [String: String]? = nil,
    currentDirectory: URL? = nil, timeout: Duration = .seconds(60)
) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(
                with: Result {
                    try runProcessBlocking(
                        executable, arguments: arguments, environment: environment,
                        currentDirectory: currentDirectory, timeout: timeout)
                })
        }
    }
}

private func runProcessBlocking(
    _ executable: URL, arguments: [String], environment: [String: String]?, currentDirectory: URL?,
    timeout: Duration
) throws -> ProcessResult {
    let scratch = try TemporaryDirectory(prefix: "flotilla-process")
    defer { scratch.remove() }
    let stdoutURL = scratch.appending("stdout")
    let stderrURL = scratch.appending("stderr")
    _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
    let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
    let stderrHandle = try FileHandle(forWritingTo: stderrURL)
    defer {
        try? stdoutHandle.close()
        try? stderrHandle.close()
    }

    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    try process.run()

    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    var timedOut = false
    if exited.wait(timeout: .now() + seconds) == .timedOut {
        timedOut = true
        kill(process.processIdentifier, SIGKILL)
        exited.wait()
    }
    return ProcessResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "",
        timedOut: timedOut)
}

