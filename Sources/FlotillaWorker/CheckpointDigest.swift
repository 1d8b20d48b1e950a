import COpenSSL
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 and size of a checkpoint file, read in 1 MiB chunks so a checkpoint
/// of many gigabytes is hashed in constant memory.
public struct CheckpointDigest: Sendable, Hashable {
    /// 64 lower-case hex digits.
    public var sha256Hex: String
    public var sizeBytes: UInt64

    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot hash \(path): \(reason)" }
    }

    static let chunkBytes = 1 << 20

    /// What hashing may cost: a job can name any path in a CHECKPOINT line, so
    /// `/dev/zero`, a FIFO or an ever-growing file must not hash forever.
    public struct Limits: Sendable, Hashable {
        /// The largest checkpoint file accepted.
        public var maxBytes: UInt64
        /// How long hashing one file may take.
        public var maxDuration: Duration

        public init(maxBytes: UInt64 = 256 << 30, maxDuration: Duration = .seconds(600)) {
            self.maxBytes = maxBytes
            self.maxDuration = maxDuration
        }
    }

    /// Hashes the regular file at `path` (symbolic links are not followed), within `limits`.
    public init(file path: String, limits: Limits = Limits()) throws {
        // O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw Failure(path: path, reason: "not a regular file")
        }
        guard UInt64(status.st_size) <= limits.maxBytes else {
            throw Failure(path: path, reason: "\(status.st_size) bytes, more than the \(limits.maxBytes)-byte limit")
        }
        let deadline = ContinuousClock.now + limits.maxDuration
        guard let context = EVP_MD_CTX_new() else { throw Failure(path: path, reason: "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            throw Failure(path: path, reason: "EVP_DigestInit_ex failed")
        }
        var buffer = [UInt8](repeating: 0, count: Self.chunkBytes)
        var size: UInt64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            size += UInt64(count)
            // A file that grows while we read it is still being written: not a checkpoint yet.
            guard size <= limits.maxBytes else {
                throw Failure(path: path, reason: "grew past the \(limits.maxBytes)-byte limit while being hashed")
            }
            guard ContinuousClock.now < deadline else {
                throw Failure(path: path, reason: "hashing took longer than \(limits.maxDuration)")
            }
            let updated = buffer.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, count) }
            guard updated == 1 else { throw Failure(path: path, reason: "EVP_DigestUpdate failed") }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1 else {
            throw Failure(path: path, reason: "EVP_DigestFinal_ex failed")
        }
        sha256Hex = Self.hex(digest.prefix(Int(length)))
        sizeBytes = size
    }

    public init(sha256Hex: String, sizeBytes: UInt64) {
        self.sha256Hex = sha256Hex
        self.sizeBytes = sizeBytes
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
