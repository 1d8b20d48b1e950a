import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

extension ProcessClusterTests {
    /// Client certificates bound to tenants acme and globex, against a real
    /// coordinator: each submits, sees and cancels only its own tenant's jobs;
    /// another tenant's job reads as missing; admin acts for every tenant
    /// (PROTOCOL.md §9.2).
    @Suite struct TenantIsolationTests {
        @Test func everyJobOperationStaysWithinTheCertificatesTenant() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.connect(.worker, "w1")
                _ = try await worker.request(CoordinatorBadInputTests.registration("w1", gpus: 1),
                                             expecting: Flotilla_V1_RegisterWorkerResponse.self)
                let acme = try await cluster.connect(.client, "alice", tenant: "acme")
                let globex = try await cluster.connect(.client, "gus", tenant: "globex")
                let admin = try await cluster.admin()
                func spec(_ key: String, tenant: String = "") -> Flotilla_V1_JobSpec {
                    var spec = ClusterHarness.spec(model: "sdxl", key: key)
                    spec.tenant = tenant
                    return spec
                }

                // Submit: the certificate's tenant is filled in; another tenant is refused.
                let acmeShared = try await cluster.submit(spec("shared"), via: acme).job
                let globexShared = try await cluster.submit(spec("shared"), via: globex).job
                #expect(acmeShared.spec.tenant == "acme" && globexShared.spec.tenant == "globex")
                #expect(acmeShared.id != globexShared.id, "one idempotency key, two tenants: two jobs")
                let resent = try await cluster.submit(spec("shared"), via: acme)
                #expect(resent.duplicate && resent.job.id == acmeShared.id)
                let acmeExplicit = try await cluster.submit(spec("a2", tenant: "acme"), via: acme).job
                let acmeThird = try await cluster.submit(spec("a3"), via: acme).job
                let globexSecond = try await cluster.submit(spec("g2"), via: globex).job
                await #expect(throws: FlotillaError(.permissionDenied,
                    "this certificate is bound to tenant acme; it may not submit jobs for tenant globex")) {
                    try await cluster.submit(spec("sneak", tenant: "globex"), via: acme)
                }
                let acmeJobs = [acmeThird.id, acmeExplicit.id, acmeShared.id]  // newest first
                let globexJobs = [globexSecond.id, globexShared.id]

                // Get, watch and cancel of the other tenant's job read exactly like a missing job.
                for (client, foreign) in [(acme, globexShared.id), (globex, acmeShared.id)] {
                    for id in [foreign, "j-no-such-job"] {
                        let missing = FlotillaError(.notFound, "no job \(id)")
                        await #expect(throws: missing) { try await cluster.job(id, via: client) }
                        await #expect(throws: missing) { try await Self.firstEvent(of: id, via: client) }
                        var cancel = Flotilla_V1_CancelJobRequest()
                        cancel.jobID = id
                        await #expect(throws: missing) {
                            try await client.request(cancel, expecting: Flotilla_V1_CancelJobResponse.self)
                        }
                    }
                }
                #expect(try await cluster.job(globexShared.id, via: admin).state != .cancelled)
                #expect(try await cluster.job(acmeShared.id, via: acme).id == acmeShared.id)
                #expect(try await Self.firstEvent(of: acmeShared.id, via: acme).jobID == acmeShared.id)

                // List: only the certificate's tenant, page by page; naming another tenant is refused.
                #expect(try await Self.list(via: acme, limit: 2) == [[acmeJobs[0], acmeJobs[1]], [acmeJobs[2]]])
                #expect(try await Self.list(via: acme, tenant: "acme") == [acmeJobs])
                #expect(try await Self.list(via: globex) == [globexJobs])
                await #expect(throws: FlotillaError(.permissionDenied,
                    "this certificate is bound to tenant globex; it may not list jobs of tenant acme")) {
                    try await Self.list(via: globex, tenant: "acme")
                }

                // Admin sees every tenant's jobs and may cancel any; an owner may cancel its own.
                #expect(try await Self.list(via: admin).flatMap { $0 } == [globexSecond.id] + [acmeThird.id, acmeExplicit.id]
                            + [globexShared.id, acmeShared.id])
                #expect(try await Self.list(via: admin, tenant: "globex") == [globexJobs])
                #expect(try await cluster.job(acmeShared.id, via: admin).spec.tenant == "acme")
                #expect(try await Self.cancel(globexShared.id, via: admin).state == .cancelled)
                #expect(try await Self.cancel(acmeExplicit.id, via: admin).state == .cancelled)
                #expect(try await Self.cancel(acmeThird.id, via: acme).state == .cancelled)
                #expect(try await cluster.job(globexShared.id, via: globex).state == .cancelled)
            }
        }

        /// A client certificate naming no tenant acts for tenant `default`, and only for it.
        @Test func aClientCertificateWithoutATenantActsForTheDefaultTenant() async throws {
            try await ClusterHarness.withCluster { cluster in
                try await cluster.startCoordinator()
                let worker = try await cluster.connect(.worker, "w1")
                _ = try await worker.request(CoordinatorBadInputTests.registration("w1", gpus: 1),
                                             expecting: Flotilla_V1_RegisterWorkerResponse.self)
                let plain = try await cluster.connect(.client, "legacy")
                let acme = try await cluster.connect(.client, "alice", tenant: "acme")
                let own = try await cluster.submit(ClusterHarness.spec(model: "sdxl"), via: plain).job
                let acmeJob = try await cluster.submit(ClusterHarness.spec(model: "sdxl"), via: acme).job
                #expect(own.spec.tenant == "default")
                var foreign = ClusterHarness.spec(model: "sdxl")
                foreign.tenant = "acme"
                await #expect(throws: FlotillaError(.permissionDenied,
                    "this certificate is bound to tenant default; it may not submit jobs for tenant acme")) {
                    try await cluster.submit(foreign, via: plain)
                }
                #expect(try await Self.list(via: plain) == [[own.id]])
                await #expect(throws: FlotillaError(.notFound, "no job \(acmeJob.id)")) {
                    try await cluster.job(acmeJob.id, via: plain)
                }
                await #expect(throws: FlotillaError(.notFound, "no job \(own.id)")) {
                    try await cluster.job(own.id, via: acme)
                }
            }
        }

        /// Every page of the caller's job list, following `next_page_token`.
        static func list(via connection: FlotillaConnection, tenant: String = "", limit: UInt32 = 0) async throws -> [[String]] {
            var request = Flotilla_V1_ListJobsRequest()
            request.tenant = tenant
            request.limit = limit
            var pages: [[String]] = []
            while true {
                let page = try await connection.request(request, expecting: Flotilla_V1_ListJobsResponse.self)
                pages.append(page.jobs.map(\.id))
                guard !page.nextPageToken.isEmpty, pages.count < 100 else { return pages }
                request.pageToken = page.nextPageToken
            }
        }

        static func cancel(_ id: String, via connection: FlotillaConnection) async throws -> Flotilla_V1_Job {
            var request = Flotilla_V1_CancelJobRequest()
            request.jobID = id
            return try await connection.request(request, expecting: Flotilla_V1_CancelJobResponse.self).job
        }

        /// The first event of a watch (the job's current state), then the watch is dropped.
        @discardableResult
        static func firstEvent(of id: String, via connection: FlotillaConnection) async throws -> Flotilla_V1_JobEvent {
            var watch = Flotilla_V1_WatchJobRequest()
            watch.jobID = id
            for try await item in connection.stream(watch) {
                return try #require(item as? Flotilla_V1_JobEvent)
            }
            throw FlotillaError(.internal, "the watch of \(id) ended without an event")
        }
    }
}
