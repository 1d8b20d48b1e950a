#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `<directory>/LOCK`, held while the log is open, so that two
/// coordinators never write one log. The lock belongs to the open file description:
/// a second `open` of the file conflicts even inside the same process, and the kernel
/// drops the lock when the holder dies, so a crashed coordinator leaves nothing to clean.
/// The holder writes its pid into the file to name itself in the other's error.
final class DirectoryLock: Sendable {
    static let fileName = "LOCK"
    private let file: DiskFile

    init(directory: String) throws {
        let file = try DiskFile(path: directory + "/" + Self.fileName, create: true)
        guard flock(file.descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            guard code == EWOULDBLOCK else {
                throw LogError.io(operation: "flock", path: file.path, errno: code)
            }
            throw LogError.directoryLocked(directory: directory, holderPID: Self.holder(of: file))
        }
        // The pid is informative only, so it is not synced; a stale one is simply overwritten.
        guard ftruncate(file.descriptor, 0) == 0 else {
            throw LogError.io(operation: "ftruncate", path: file.path, errno: errno)
        }
        try file.write(Array("\(getpid())\n".utf8), at: 0)
        self.file = file
    }

    private static func holder(of file: DiskFile) -> Int32? {
        guard let bytes = try? file.readAll() else { return nil }
        return Int32(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace })
    }
}
