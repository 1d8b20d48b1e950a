#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor, closed when the last reference goes away, with the few
/// POSIX calls the log needs, each turning a failure into `LogError.io`.
final class DiskFile: Sendable {
    let descriptor: Int32
    let path: String

    /// Opens (or with `create`, creates) `path` for reading and writing.
    init(path: String, create: Bool = false, exclusive: Bool = false) throws {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let descriptor = Self.retrying { open(path, flags, 0o644) }
        guard descriptor >= 0 else { throw LogError.io(operation: "open", path: path, errno: errno) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    var size: Int {
        get throws {
            var status = stat()
            guard fstat(descriptor, &status) == 0 else {
                throw LogError.io(operation: "fstat", path: path, errno: errno)
            }
            return Int(status.st_size)
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let result = Self.retrying {
                    pwrite(descriptor, buffer.baseAddress! + written, buffer.count - written, off_t(offset + written))
                }
                guard result > 0 else { throw LogError.io(operation: "write", path: path, errno: errno) }
                written += result
            }
        }
    }

    /// Reads exactly `count` bytes at `offset`; a file that ends sooner is an error.
    func read(count: Int, at offset: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while initialized < count {
                let result = Self.retrying {
                    pread(
                        descriptor, buffer.baseAddress! + initialized, count - initialized, off_t(offset + initialized))
                }
                guard result > 0 else {
                    throw LogError.io(operation: "read", path: path, errno: result == 0 ? EIO : errno)
                }
                initialized += result
            }
        }
    }

    func readAll() throws -> [UInt8] {
        try read(count: size, at: 0)
    }

    /// Makes written bytes (and the size that reaches them) durable, skipping timestamps.
    func syncData() throws {
        #if canImport(Glibc)
            let result = fdatasync(descriptor)
        #else
            let result = fsync(descriptor)
        #endif
        guard result == 0 else { throw LogError.io(operation: "fdatasync", path: path, errno: errno) }
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else { throw LogError.io(operation: "fsync", path: path, errno: errno) }
    }

    /// Cuts the file to `size` bytes and makes the cut durable before anything is written over it.
    func truncate(to size: Int) throws {
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw LogError.io(operation: "ftruncate", path: path, errno: errno)
        }
        try sync()
    }

    /// Makes creations, renames and removals of the directory's entries durable.
    static func syncDirectory(_ path: String) throws {
        let descriptor = retrying { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard descriptor >= 0 else { throw LogError.io(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw LogError.io(operation: "fsync", path: path, errno: errno) }
    }

    /// Creates `path` and any missing parents, syncing each parent that gained an entry so
    /// the directory outlives a power loss along with what is later synced inside it.
    static func createDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = current.isEmpty ? "/" : current
            current += "/" + component
            if mkdir(current, 0o755) == 0 {
                try syncDirectory(parent)
            } else if errno != EEXIST {
                throw LogError.io(operation: "mkdir", path: current, errno: errno)
            }
        }
    }

    /// The names in a directory, without "." and "..".
    static func list(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw LogError.io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw LogError.io(operation: "unlink", path: path, errno: errno)
        }
    }

    static func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else { throw LogError.io(operation: "rename", path: from, errno: errno) }
    }

    /// The whole file at `path`, or nil when there is none.
    static func readIfPresent(_ path: String) throws -> [UInt8]? {
        do {
            return try DiskFile(path: path).readAll()
        } catch LogError.io(_, _, ENOENT) {
            return nil
        }
    }

    /// Replaces the file at `path` (in `directory`) with `bytes` so that a crash leaves the old
    /// contents or the new, never a mix: a new `<path>.tmp`, synced, renamed over it, and the
    /// directory synced.
    static func replaceDurably(_ path: String, with bytes: [UInt8], directory: String) throws {
        let temporary = path + ".tmp"
        try remove(temporary)
        do {
            let file = try DiskFile(path: temporary, create: true, exclusive: true)
            try file.write(bytes, at: 0)
            try file.sync()
        }
        try move(temporary, to: path)
        try syncDirectory(directory)
    }

    private static func retrying<T: FixedWidthInteger>(_ call: () -> T) -> T {
        var result: T
        repeat { result = call() } while result == -1 && errno == EINTR
        return result
    }
}
