import FlotillaProto
import Foundation

/// Checks a checkpoint before a resume uses it: the file its URI names must
/// exist with the reported size and SHA-256 (PROTOCOL.md §11.3, Assignment).
public enum CheckpointVerifier {
    public struct Mismatch: Error, Sendable, Hashable, CustomStringConvertible {
        public var uri: String
        public var reason: String
        public var description: String { "checkpoint \(uri) is unusable: \(reason)" }
    }

    /// The local path of `file:///abs/path` or a plain path; nil for other schemes.
    public static func path(of uri: String) -> String? {
        if uri.hasPrefix("file://") {
            let rest = String(uri.dropFirst("file://".count))
            // file://localhost/abs/path is the same file. Paths are carried raw, not
            // percent-encoded: the worker that wrote the URI did not encode them.
            return rest.hasPrefix("localhost/") ? String(rest.dropFirst("localhost".count)) : rest
        }
        return uri.contains("://") ? nil : uri
    }

    /// The `file://` URI of an absolute path.
    public static func uri(of path: String) -> String {
        "file://" + URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// `path` with symbolic links resolved, if it lies under `directory` (the worker's
    /// checkpoint store); nil otherwise. A job's CHECKPOINT line or a resume URI naming
    /// `/etc/hostname` must not be hashed, reported or handed to the next attempt.
    public static func resolve(_ path: String, within directory: String) -> String? {
        guard let resolved = realPath(path), let root = realPath(directory) else { return nil }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return resolved.hasPrefix(prefix) ? resolved : nil
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Returns the verified file's path, or throws a `Mismatch` naming the URI
    /// and, for a digest mismatch, both hashes. The file must lie under `directory`.
    @discardableResult
    public static func verify(
        _ checkpoint: Flotilla_V1_Checkpoint, within directory: String, limits: CheckpointDigest.Limits = .init()
    ) throws -> String {
        let uri = checkpoint.uri
        guard let path = path(of: uri), !path.isEmpty else {
            throw Mismatch(uri: uri, reason: "only file:// checkpoints can be read by this worker")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw Mismatch(uri: uri, reason: "the file \(path) does not exist")
        }
        guard resolve(path, within: directory) != nil else {
            throw Mismatch(uri: uri, reason: "\(path) is outside the checkpoint directory \(directory)")
        }
        let digest: CheckpointDigest
        do {
            digest = try CheckpointDigest(file: path, limits: limits)
        } catch {
            throw Mismatch(uri: uri, reason: "\(error)")
        }
        guard digest.sizeBytes == checkpoint.sizeBytes else {
            throw Mismatch(uri: uri, reason: "size is \(digest.sizeBytes) bytes, expected \(checkpoint.sizeBytes)")
        }
        guard digest.sha256Hex == checkpoint.sha256Hex.lowercased() else {
            throw Mismatch(uri: uri, reason: "SHA-256 is \(digest.sha256Hex), expected \(checkpoint.sha256Hex)")
        }
        return path
    }
}
