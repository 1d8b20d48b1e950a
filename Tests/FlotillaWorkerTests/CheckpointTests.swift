import FlotillaProto
import FlotillaTestSupport
@testable import FlotillaWorker
import Foundation
import Testing

@Suite struct CheckpointTests {
    @Test func hashesLikeSHA256() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let empty = directory.appending("empty").path
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(try CheckpointDigest(file: empty) == CheckpointDigest(
            sha256Hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sizeBytes: 0))
        let abc = directory.appending("abc").path
        try Data("abc".utf8).write(to: URL(fileURLWithPath: abc))
        #expect(try CheckpointDigest(file: abc).sha256Hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hashesFilesLongerThanOneChunk() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("big").path
        // 2.5 MiB of "a": crosses chunk boundaries.
        try Data(repeating: 0x61, count: 5 << 19).write(to: URL(fileURLWithPath: path))
        let digest = try CheckpointDigest(file: path)
        #expect(digest.sizeBytes == 5 << 19)
        let captured = try await SpawnedProcess.capture("sha256sum", arguments: [path], timeout: .seconds(20))
        #expect(captured.status == .exited(0))
        #expect(captured.standardOutput.hasPrefix(digest.sha256Hex))
    }

    func written(_ directory: TemporaryDirectory) throws -> (path: String, checkpoint: Flotilla_V1_Checkpoint) {
        let path = directory.appending("a1-s3.ckpt").path
        try SimulatedCheckpoint.contents(jobID: "job-1", attempt: 1, step: 3).write(to: URL(fileURLWithPath: path))
        let digest = try CheckpointDigest(file: path)
        var checkpoint = Flotilla_V1_Checkpoint()
        checkpoint.jobID = "job-1"
        checkpoint.attempt = 1
        checkpoint.step = 3
        checkpoint.uri = CheckpointVerifier.uri(of: path)
        checkpoint.sha256Hex = digest.sha256Hex
        checkpoint.sizeBytes = digest.sizeBytes
        return (path, checkpoint)
    }

    @Test func aGoodCheckpointVerifies() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (path, checkpoint) = try written(directory)
        #expect(checkpoint.uri == "file://" + path)
        #expect(try CheckpointVerifier.verify(checkpoint, within: directory.path) == path)
        var plain = checkpoint
        plain.uri = path
        #expect(try CheckpointVerifier.verify(plain, within: directory.path) == path)
    }

    @Test func oneFlippedByteFailsNamingBothHashes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (path, checkpoint) = try written(directory)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let actual = try CheckpointDigest(file: path).sha256Hex
        let error = #expect(throws: CheckpointVerifier.Mismatch.self) { try CheckpointVerifier.verify(checkpoint, within: directory.path) }
        #expect(error?.uri == checkpoint.uri)
        #expect(error?.description.contains(checkpoint.uri) == true)
        #expect(error?.description.contains(checkpoint.sha256Hex) == true)
        #expect(error?.description.contains(actual) == true)
    }

    @Test func aTruncatedCheckpointFails() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (path, checkpoint) = try written(directory)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: CheckpointVerifier.Mismatch.self) { try CheckpointVerifier.verify(checkpoint, within: directory.path) }
        #expect(error?.reason.contains("size") == true)
    }

    @Test func aMissingCheckpointFails() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (path, checkpoint) = try written(directory)
        try FileManager.default.removeItem(atPath: path)
        let error = #expect(throws: CheckpointVerifier.Mismatch.self) { try CheckpointVerifier.verify(checkpoint, within: directory.path) }
        #expect(error?.description.contains(path) == true)
        var remote = checkpoint
        remote.uri = "s3://bucket/ckpt"
        #expect(throws: CheckpointVerifier.Mismatch.self) { try CheckpointVerifier.verify(remote, within: directory.path) }
    }

    /// Before, `CHECKPOINT 5 /dev/zero` hashed forever at 100 % CPU and wedged the attempt.
    @Test func devicesAndFIFOsAreRefusedAtOnce() throws {
        for path in ["/dev/zero", "/dev/urandom"] {
            let error = #expect(throws: CheckpointDigest.Failure.self) { try CheckpointDigest(file: path) }
            #expect(error?.reason == "not a regular file")
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.appending("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let error = #expect(throws: CheckpointDigest.Failure.self) { try CheckpointDigest(file: fifo) }
        #expect(error?.reason == "not a regular file")
    }

    @Test func aFileOverTheSizeLimitIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("big").path
        try Data(repeating: 1, count: 4096).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: CheckpointDigest.Failure.self) {
            try CheckpointDigest(file: path, limits: .init(maxBytes: 4095))
        }
        #expect(error?.reason.contains("4095-byte limit") == true)
        #expect(try CheckpointDigest(file: path, limits: .init(maxBytes: 4096)).sizeBytes == 4096)
    }

    /// Before, `file:///etc/hostname` was accepted and handed to the next attempt.
    @Test func checkpointsOutsideTheCheckpointDirectoryAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = directory.appending("checkpoints").path
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        #expect(CheckpointVerifier.resolve("/etc/hostname", within: store) == nil)
        #expect(CheckpointVerifier.resolve(store + "/../../etc/hostname", within: store) == nil)
        // A symbolic link inside the store that points out of it is outside too.
        let link = store + "/escape"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/etc/hostname")
        #expect(CheckpointVerifier.resolve(link, within: store) == nil)
        let inside = store + "/job-1/a1-s3.ckpt"
        try FileManager.default.createDirectory(atPath: store + "/job-1", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: inside))
        #expect(CheckpointVerifier.resolve(inside, within: store) != nil)
        // A sibling whose name merely starts like the store is not inside it.
        #expect(CheckpointVerifier.resolve(inside, within: store + "/job") == nil)

        var checkpoint = Flotilla_V1_Checkpoint()
        checkpoint.uri = "file:///etc/hostname"
        let error = #expect(throws: CheckpointVerifier.Mismatch.self) { try CheckpointVerifier.verify(checkpoint, within: store) }
        #expect(error?.reason.contains("outside the checkpoint directory") == true)
    }
}
