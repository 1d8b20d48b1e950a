import FlotillaPKI
import FlotillaTestSupport
import Foundation
import Testing

@Suite struct TestSupportTests {
    @Test func temporaryDirectoriesAreDistinctAndRemovable() throws {
        let first = try TemporaryDirectory()
        let second = try TemporaryDirectory()
        #expect(first.url != second.url)
        #expect(FileManager.default.fileExists(atPath: first.path))
        first.remove()
        second.remove()
        #expect(!FileManager.default.fileExists(atPath: first.path))
    }

    @Test func nodeFilesAreStableAcrossConcurrentRequests() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let certificates = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let files = try pki.node(.worker, "w1")
                    return try String(contentsOf: files.certificate, encoding: .utf8)
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(certificates.count == 1)
        let files = try pki.node(.worker, "w1")
        let info = try CertificateInfo(contentsOf: files.certificate)
        #expect(info.identity == NodeIdentity(cluster: "test", role: .worker, name: "w1"))
        try pki.authority.verify(certificatePEM: String(contentsOf: files.certificate, encoding: .utf8))
        #expect(try String(contentsOf: files.privateKey, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let staging = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".staging") }
        #expect(staging.isEmpty)
    }

    @Test func otherCAIsUnrelated() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let other = try TestPKI.otherCA(in: directory.url)
        #expect(other.cluster == pki.cluster)
        #expect(other.authority.certificatePEM != pki.authority.certificatePEM)
        let files = try other.node(.coordinator, "c1")
        #expect(throws: PKIError.self) {
            try pki.authority.verify(certificatePEM: String(contentsOf: files.certificate, encoding: .utf8))
        }
    }

    @Test func expiredCertificateHasExpired() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(directory: directory.url)
        let info = try CertificateInfo(contentsOf: pki.expired(.worker, "w1").certificate)
        #expect(info.notAfter < Date())
        #expect(info.identity?.name == "w1")
    }

    @Test func runProcessCollectsOutputAndStatus() async throws {
        let shell = URL(fileURLWithPath: "/bin/sh")
        let result = try await runProcess(shell, arguments: ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        #expect(!result.timedOut)
    }

    @Test func runProcessKillsAHungChild() async throws {
        let started = ContinuousClock.now
        let result = try await runProcess(
            URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "echo begun; exec sleep 600"], timeout: .milliseconds(300))
        #expect(result.timedOut)
        #expect(result.status != 0)
        #expect(result.stdout == "begun\n")
        // Far less than the child's 600 s sleep: it was killed, not waited for (the bound is
        // loose because a loaded 2-core CI machine can take seconds to schedule anything).
        #expect(ContinuousClock.now - started < .seconds(120))
    }

    @Test func runProcessHandlesLargeOutput() async throws {
        let result = try await runProcess(
            URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "head -c 1000000 /dev/zero | tr '\\0' x"])
        #expect(result.status == 0)
        #expect(result.stdout.utf8.count == 1_000_000)
    }
}
