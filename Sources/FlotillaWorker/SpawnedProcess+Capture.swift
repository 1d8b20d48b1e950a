import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SpawnedProcess {
    struct Captured: Sendable {
        var status: Status
        var standardOutput: String
        var standardError: String
    }

    /// Runs a short command to completion and returns what it printed; it is
    /// killed after `timeout` (a hung driver must not hang the worker's start).
    static func capture(_ executable: String, arguments: [String], timeout: Duration,
                        environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Captured {
        let process = try spawn(executable, arguments: arguments, environment: environment)
        let output = Locked<[String]>([])
        let errors = Locked<[String]>([])
        let outputReader = LineReader(descriptor: process.standardOutput) { line in output.withLock { $0.append(line) } }
        let errorReader = LineReader(descriptor: process.standardError) { line in errors.withLock { $0.append(line) } }
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            process.signalGroup(SIGKILL)
        }
        let status = await process.exit()
        watchdog.cancel()
        _ = await outputReader.waitUntilFinished(timeout: .seconds(2))
        _ = await errorReader.waitUntilFinished(timeout: .seconds(2))
        return Captured(status: status, standardOutput: output.current.joined(separator: "\n"),
                        standardError: errors.current.joined(separator: "\n"))
    }
}
