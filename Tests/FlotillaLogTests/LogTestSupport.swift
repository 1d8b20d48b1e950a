import FlotillaLog
import Foundation
import InMemoryLogging
import Logging

/// Runs `body` with a fresh directory of its own on disk, removed afterwards.
func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    var template = Array((NSTemporaryDirectory() + "/flotilla-log-XXXXXX").utf8CString)
    guard let created = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    let path = String(cString: created)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await body(path)
}

/// A logger whose output the test can read back.
struct CapturedLogger {
    let handler = InMemoryLogHandler()
    var logger: Logger { Logger(label: "flotilla.log.test") { _ in handler } }
    var warnings: [String] {
        handler.entries.filter { $0.level == .warning }.map(\.message.description)
    }
}

/// Eight bytes, so every record is 32 bytes and offsets are easy to compute.
func payload(_ index: UInt64) -> [UInt8] {
    withUnsafeBytes(of: index.bigEndian) { Array($0) }
}

let recordSize = 32

func entries(_ range: ClosedRange<UInt64>, term: UInt64 = 1) -> [LogEntry] {
    range.map { LogEntry(index: $0, term: term, payload: payload($0)) }
}

/// Eight records of 32 bytes per segment.
let smallSegments = DurableLog.Configuration(segmentSize: 8 * recordSize)

func segmentFiles(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".seg") }.sorted()
}

func snapshotFiles(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("snapshot-") }.sorted()
}

func segmentName(_ firstIndex: UInt64) -> String {
    let digits = String(firstIndex)
    return "log-" + String(repeating: "0", count: 20 - digits.count) + digits + ".seg"
}

/// Edits a file's bytes in place, as a disk or a crash would.
func damage(_ path: String, _ edit: (inout [UInt8]) -> Void) throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    edit(&bytes)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func fileSize(_ path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
}

let markerName = "DURABLE"

/// Writes entries 1...count of which only 1...durable are covered by the durability mark:
/// what a crash leaves when the writer synced the later records but not yet the mark. They
/// were never acknowledged, so recovery may cut them.
func writeLog(
    _ directory: String, count: UInt64, durableThrough durable: UInt64,
    configuration: DurableLog.Configuration = .init()
) async throws {
    let log = try DurableLog.open(directory: directory, configuration: configuration)
    _ = try await log.append(entries(1...durable))
    await log.close()
    let mark = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + markerName))
    let reopened = try DurableLog.open(directory: directory, configuration: configuration)
    if count > durable { _ = try await reopened.append(entries((durable + 1)...count)) }
    await reopened.close()
    try mark.write(to: URL(fileURLWithPath: directory + "/" + markerName))
}

func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Every file of the directory but LOCK (whose pid an open rewrites), with its bytes.
func directoryContents(_ directory: String) throws -> [String: [UInt8]] {
    var contents: [String: [UInt8]] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name != "LOCK" {
        contents[name] = try fileBytes(directory + "/" + name)
    }
    return contents
}
