import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes certificate and key files so that no reader ever sees a partial file or a key
/// with loose permissions: each file is created under a temporary name with its final
/// mode already set, then moved into place in one step.
enum PEMFile {
    struct Entry {
        var name: String
        var contents: String
        var mode: mode_t
    }

    static let certificateMode: mode_t = 0o644
    static let privateKeyMode: mode_t = 0o600

    /// Writes every entry into `directory` (created if needed). Without `overwrite`, fails
    /// before writing anything if any of the files already exists.
    static func write(_ entries: [Entry], to directory: URL, overwrite: Bool) throws {
        try createDirectory(directory)
        if !overwrite {
            for entry in entries {
                let path = directory.appendingPathComponent(entry.name).path
                if FileManager.default.fileExists(atPath: path) { throw PKIError.fileExists(path: path) }
            }
        }
        for entry in entries {
            try write(entry, to: directory.appendingPathComponent(entry.name).path, overwrite: overwrite)
        }
    }

    static func read(_ url: URL) throws -> String {
        guard FileManager.default.fileExists(atPath: url.path) else { throw PKIError.fileNotFound(path: url.path) }
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PKIError.fileSystem(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
    }

    private static func createDirectory(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw PKIError.fileSystem(path: directory.path, reason: "cannot create directory: \(error.localizedDescription)")
        }
    }

    private static func write(_ entry: Entry, to path: String, overwrite: Bool) throws {
        let temporary = path + ".tmp-\(UUID().uuidString)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, entry.mode)
        guard descriptor >= 0 else { throw systemError(path: temporary, "cannot create") }
        var removeTemporary = true
        defer { if removeTemporary { unlink(temporary) } }
        // The umask may have narrowed the creation mode; fix it while the file is still empty.
        guard fchmod(descriptor, entry.mode) == 0 else {
            let error = systemError(path: temporary, "cannot set mode")
            close(descriptor)
            throw error
        }
        guard writeAll(descriptor, Array(entry.contents.utf8)) else {
            let error = systemError(path: temporary, "cannot write")
            close(descriptor)
            throw error
        }
        guard fsync(descriptor) == 0 else {
            let error = systemError(path: temporary, "cannot sync")
            close(descriptor)
            throw error
        }
        close(descriptor)
        if overwrite {
            guard rename(temporary, path) == 0 else { throw systemError(path: path, "cannot move into place") }
            removeTemporary = false
        } else {
            // link(2) fails if the name exists, so a concurrent writer cannot be overwritten.
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw PKIError.fileExists(path: path) }
                throw systemError(path: path, "cannot move into place")
            }
        }
    }

    private static func systemError(path: String, _ action: String) -> PKIError {
        .fileSystem(path: path, reason: "\(action): \(String(cString: strerror(errno)))")
    }
}

/// write(2) until every byte is out, retrying interrupted calls; false on failure (errno set).
private func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
    var written = 0
    while written < bytes.count {
        let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if result < 0 {
            if errno == EINTR { continue }
            return false
        }
        written += result
    }
    return true
}
