import FlotillaProto
import Foundation

/// GPUs as `nvidia-smi` lists them.
public enum NvidiaSMI {
    /// The query whose output `parse` reads.
    public static let arguments = ["--query-gpu=index,name,memory.total,uuid", "--format=csv,noheader,nounits"]

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var text: String
        public var reason: String
        public var description: String { "nvidia-smi output line \(line) (\"\(text)\"): \(reason)" }
    }

    /// Parses `index, name, memory.total, uuid` lines (CSV, no header, no units).
    /// Blank lines are skipped; anything else that does not fit is an error.
    public static func parse(_ output: String) throws -> [Flotilla_V1_Gpu] {
        var gpus: [Flotilla_V1_Gpu] = []
        for (number, raw) in output.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            func fail(_ reason: String) -> ParseError { ParseError(line: number + 1, text: line, reason: reason) }
            guard fields.count == 4 else { throw fail("expected 4 fields (index, name, memory.total, uuid), got \(fields.count)") }
            guard let index = UInt32(fields[0]) else { throw fail("index \"\(fields[0])\" is not a number") }
            guard !fields[1].isEmpty else { throw fail("the GPU name is empty") }
            // nounits gives MiB; "[N/A]" or "[Not Supported]" means unknown.
            let memory: UInt64
            if let value = UInt64(fields[2]) {
                memory = value
            } else if fields[2].hasPrefix("[") {
                memory = 0
            } else {
                throw fail("memory.total \"\(fields[2])\" is not a number of MiB")
            }
            var gpu = Flotilla_V1_Gpu()
            gpu.index = index
            gpu.type = fields[1]
            gpu.memoryMib = memory
            gpu.uuid = fields[3].hasPrefix("[") ? "" : fields[3]
            gpus.append(gpu)
        }
        return gpus
    }

    /// Runs `nvidia-smi` (found on PATH) and parses its list; nil when it is not
    /// installed or fails (no driver, no devices), so the caller can fall back.
    public static func query(executable: String = "nvidia-smi", timeout: Duration = .seconds(10)) async throws -> [Flotilla_V1_Gpu]? {
        guard let path = SpawnedProcess.resolve(executable) else { return nil }
        let output = try await SpawnedProcess.capture(path, arguments: arguments, timeout: timeout)
        guard output.status == .exited(0) else { return nil }
        return try parse(output.standardOutput)
    }
}
