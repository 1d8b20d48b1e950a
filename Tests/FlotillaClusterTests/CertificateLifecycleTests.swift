import FlotillaPKI
import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// A process's own certificate is checked when it starts and on every SIGHUP reload.
    @Suite struct CertificateLifecycleTests {
        /// Before, a coordinator with a worker's or another cluster's certificate started,
        /// reported ready, and every client was refused with a message blaming the client.
        @Test func coordinatorWithTheWrongCertificateRefusesToStart() async throws {
            try await ClusterHarness.withCluster { cluster in
                let cases: [(NodeTLSFiles, String)] = [
                    (try cluster.pki.node(.worker, "coordinator-1"), "it is a worker certificate"),
                    (try cluster.pki.node(
                        identity: NodeIdentity(cluster: "elsewhere", role: .coordinator, name: "coordinator-1"),
                        label: "elsewhere"), "it is for cluster \"elsewhere\""),
                    (try cluster.pki.node(.coordinator, "coordinator-9"), "it names node \"coordinator-9\""),
                    (try cluster.pki.expired(.coordinator, "coordinator-1"), "it expired"),
                ]
                for (files, reason) in cases {
                    cluster.coordinatorTLS = files
                    let child = try await cluster.startCoordinator(waitUntilServing: false)
                    #expect(await child.waitForExit(timeout: .seconds(20)), "the coordinator kept running with \(reason)")
                    #expect(child.exitStatus == 1)
                    #expect(child.output.contains(reason), "\(child.tail())")
                    #expect(!child.output.contains("coordinator serving"))
                }
            }
        }

        @Test func workerWithACoordinatorCertificateRefusesToStart() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                // The worker takes its files from pki.node(.worker, name); hand it a coordinator's instead.
                let coordinatorFiles = try cluster.pki.node(.coordinator, "coordinator-1")
                let child = try await cluster.startWorker(
                    "w1", gpus: 1, models: "[{name: sdxl, executor: simulated}]",
                    extra: ["tls.cert": coordinatorFiles.certificate.path, "tls.key": coordinatorFiles.privateKey.path],
                    waitForRegistration: false)
                #expect(await child.waitForExit(timeout: .seconds(20)))
                #expect(child.exitStatus != 0)
                #expect(child.output.contains("is a coordinator certificate"), "\(child.tail())")
            }
        }

        /// Before, SIGHUP killed the coordinator (nothing installed the reloader).
        @Test func sighupRotatesTheCertificateAndRefusesABadOne() async throws {
            try await ClusterHarness.withCluster { cluster in
                // A private copy of the coordinator's files, so the test can overwrite them.
                let original = try cluster.pki.node(.coordinator, "coordinator-1")
                let live = NodeTLSFiles(identity: original.identity, directory: cluster.directory.appending("live-tls"))
                try FileManager.default.copyItem(at: original.directory, to: live.directory)
                cluster.coordinatorTLS = live
                let coordinator = try await cluster.startCoordinator()
                let before = try await cluster.admin()

                // A fresh certificate for the same identity (a rotation).
                let rotated = try cluster.pki.node(identity: original.identity, label: "rotated")
                try Self.replace(live, with: rotated)
                coordinator.signal(SIGHUP)
                try await coordinator.waitForOutput("reloaded TLS certificate", timeout: .seconds(10))
                #expect(coordinator.isRunning)
                #expect(coordinator.output.contains("valid until"))
                // The connection made before the reload still works, and a new one gets the new certificate.
                _ = try await before.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
                let after = try await cluster.admin()
                _ = try await after.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)

                // A worker's certificate in its place is refused; the rotated one stays in use.
                try Self.replace(live, with: try cluster.pki.node(.worker, "intruder"))
                coordinator.signal(SIGHUP)
                try await coordinator.waitForOutput("TLS reload failed, keeping the previous certificate", timeout: .seconds(10))
                #expect(coordinator.output.contains("it is a worker certificate"))
                #expect(coordinator.isRunning)
                let third = try await cluster.admin()
                _ = try await third.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
                await before.close()
                await after.close()
                await third.close()
            }
        }

        static func replace(_ live: NodeTLSFiles, with source: NodeTLSFiles) throws {
            for (from, to) in [(source.certificate, live.certificate), (source.privateKey, live.privateKey)] {
                let data = try Data(contentsOf: from)
                try data.write(to: to, options: .atomic)
            }
        }
    }
}
