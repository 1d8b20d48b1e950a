#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `DURABLE` file of a log directory: one `DurableMark`, at least as far as every
/// acknowledged append. The writer thread records a new mark after a batch's segments are
/// synced and syncs it before the appenders resume, so a log found shorter than its mark
/// has lost acknowledged entries rather than an unsynced tail.
///
/// Updates are one fixed-size pwrite in place, then fdatasync: a write torn by a crash
/// fails the checksum and opening refuses, naming the file. The first mark is written to
/// a temporary file and renamed, so a crash never leaves a partial one.
final class DurabilityMarker: Sendable {
    static let fileName = "DURABLE"
    static let temporaryName = "DURABLE.tmp"

    private let file: DiskFile

    private init(file: DiskFile) {
        self.file = file
    }

    static func path(in directory: String) -> String {
        directory + "/" + fileName
    }

    /// The mark in `directory`; nil when there is no marker file.
    ///
    /// - Throws: `LogError.corruptDurableMarker` when the file is not one whole mark.
    static func read(directory: String) throws -> DurableMark? {
        let path = path(in: directory)
        let bytes: [UInt8]
        do {
            bytes = try DiskFile(path: path).readAll()
        } catch let LogError.io(_, _, code) where code == ENOENT {
            return nil
        }
        switch DurableMark.decode(bytes) {
        case .success(let mark): return mark
        case .failure(let failure): throw LogError.corruptDurableMarker(path: path, reason: failure.reason)
        }
    }

    /// Opens the existing file to record later marks in.
    static func open(directory: String) throws -> DurabilityMarker {
        DurabilityMarker(file: try DiskFile(path: path(in: directory)))
    }

    /// Writes `mark` as a new file (replacing an unreadable one), durably: temporary file,
    /// sync, rename, directory sync.
    static func create(directory: String, mark: DurableMark) throws -> DurabilityMarker {
        let temporary = directory + "/" + temporaryName
        try DiskFile.remove(temporary)
        do {
            let file = try DiskFile(path: temporary, create: true, exclusive: true)
            try file.write(mark.encoded(), at: 0)
            try file.sync()
        }
        try DiskFile.move(temporary, to: path(in: directory))
        try DiskFile.syncDirectory(directory)
        return try open(directory: directory)  // under its final name, for error messages
    }

    /// Overwrites the mark in place and syncs it.
    func record(_ mark: DurableMark) throws {
        try file.write(mark.encoded(), at: 0)
        try file.syncData()
    }
}
