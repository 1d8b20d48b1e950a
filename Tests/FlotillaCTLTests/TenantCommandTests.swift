import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf
import Testing

@Suite struct TenantCommandTests {
    @Test func tenantsListsUsageAgainstQuotas() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["tenants"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 3, "\(result.stdout)")
            #expect(words(lines[0]) == ["TENANT", "TIER", "GPUS", "QUEUED", "HOME-REGION"])
            #expect(words(lines[1]) == ["studio", "premium", "6/16", "3/100", "us-east"])
            #expect(words(lines[2]) == ["hobby", "free", "0/unlimited", "2/unlimited", "-"])
            #expect(harness.coordinator.requests(of: Flotilla_V1_ClusterStatusRequest.self).count == 1)

            let json = try await harness.run(["tenants", "list", "--json"])
            #expect(json.status == 0, "\(json.stderr)")
            #expect(json.stdout.split(separator: "\n").count == 1, "one document")
            let document = try Flotilla_V1_ClusterStatusResponse(jsonString: json.stdout)
            #expect(document.tenants == AdminFixtures.tenants)
            var onlyTenants = document
            onlyTenants.tenants = []
            #expect(onlyTenants == Flotilla_V1_ClusterStatusResponse(), "nothing but the tenants")
            #expect(json.stdout.contains("\"defaultTier\":\"TIER_PREMIUM\""))
        }
    }

    @Test func noTenantsSaysSo() async throws {
        let plane = FakeAdminPlane(tenants: [])
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["tenants"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "no tenants\n")
        }
    }

    @Test func setWithSomeFlagsKeepsTheOtherFields() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["tenants", "set", "studio", "--max-gpus", "32"])
            #expect(result.status == 0, "\(result.stderr)")
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_SetTenantRequest.self).first)
            #expect(request.tenant.tenant == "studio")
            #expect(request.tenant.maxGpus == 32)
            #expect(request.tenant.maxQueuedJobs == 100, "kept")
            #expect(request.tenant.defaultTier == .premium, "kept")
            #expect(request.tenant.homeRegion == "us-east", "kept")
            #expect(harness.coordinator.requests.first is Flotilla_V1_ClusterStatusRequest, "the quota is read first")
            #expect(result.stdout == """
                Tenant:          studio
                Default tier:    premium
                Max GPUs:        32
                Max queued jobs: 100
                Home region:     us-east

                """)

            let tier = try await harness.run(["tenants", "set", "studio", "--default-tier", "standard", "--home-region", ""])
            #expect(tier.status == 0, "\(tier.stderr)")
            let stored = try #require(plane.tenants.first { $0.quota.tenant == "studio" }).quota
            #expect(stored.maxGpus == 32, "the first change is kept")
            #expect(stored.maxQueuedJobs == 100)
            #expect(stored.defaultTier == .standard)
            #expect(stored.homeRegion.isEmpty, "an empty --home-region clears it")
        }
    }

    @Test func setCreatesANewTenantAndPrintsJSON() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["tenants", "set", "labs", "--max-queued-jobs", "0", "--default-tier", "FREE", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let response = try Flotilla_V1_SetTenantResponse(jsonString: result.stdout)
            #expect(response.tenant.tenant == "labs")
            #expect(response.tenant.defaultTier == .free)
            #expect(response.tenant.maxGpus == 0 && response.tenant.maxQueuedJobs == 0 && response.tenant.homeRegion.isEmpty)
            #expect(plane.tenants.map(\.quota.tenant) == ["studio", "hobby", "labs"])

            let text = try await harness.run(["tenants", "set", "labs", "--max-gpus", "0"])
            #expect(text.stdout.contains("Max GPUs:        unlimited"), "\(text.stdout)")
        }
    }

    @Test func setWithEveryFlagNeedsNoRead() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run([
                "tenants", "set", "studio", "--max-gpus", "4", "--max-queued-jobs", "10", "--default-tier", "free",
                "--home-region", "eu-west",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(harness.coordinator.requests.count == 1)
            let request = try #require(harness.coordinator.requests(of: Flotilla_V1_SetTenantRequest.self).first)
            #expect(request.tenant.maxGpus == 4 && request.tenant.maxQueuedJobs == 10)
            #expect(request.tenant.defaultTier == .free && request.tenant.homeRegion == "eu-west")
        }
    }

    @Test func invalidTierIsAOneLineUsageErrorBeforeAnyConnection() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            let result = try await harness.run(["tenants", "set", "studio", "--default-tier", "gold"])
            #expect(result.status == 64)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "flotillactl: invalid --default-tier 'gold': expected one of premium, standard, free\n")
            #expect(harness.coordinator.requests.isEmpty)
            #expect(plane.tenants == AdminFixtures.tenants)
        }
        // Not even the connection settings are looked at: no certificate is needed to be told.
        let bare = try await flotillactl(["tenants", "set", "studio", "--default-tier", "gold"], environment: [:])
        #expect(bare.status == 64)
        #expect(bare.stderr == "flotillactl: invalid --default-tier 'gold': expected one of premium, standard, free\n")
    }

    @Test func tenantCommandsRefuseAClientCertificate() async throws {
        let plane = FakeAdminPlane()
        try await CtlHarness.with(plane.script) { harness in
            for command in [["tenants"], ["tenants", "set", "studio", "--max-gpus", "1"]] {
                let result = try await harness.run(command, as: .client)
                #expect(result.status == 1, "\(command)")
                #expect(result.stdout.isEmpty)
                #expect(result.stderr.hasPrefix("flotillactl: the certificate's role (client) may not do this;"), "\(result.stderr)")
                #expect(result.stderr.contains("need an admin certificate"))
                #expect(result.stderr.contains("PERMISSION_DENIED"))
            }
            #expect(harness.coordinator.requests.isEmpty)
            #expect(plane.tenants == AdminFixtures.tenants)
        }
    }

    @Test func helpSaysZeroIsUnlimited() async throws {
        let result = try await flotillactl(["tenants", "set", "--help"], environment: [:])
        #expect(result.status == 0)
        #expect(result.stdout.contains("0: unlimited"))
        #expect(result.stdout.contains("--default-tier"))
    }
}
