import FlotillaPKI
import Testing

/// A client certificate's tenant binding: the `tenant` query of the identity URI (PROTOCOL.md §2.3).
@Suite struct TenantIdentityTests {
    static let ca = Result { try CertificateAuthority.generate(cluster: "test") }

    @Test func tenantRoundTripsThroughTheURI() throws {
        let identity = NodeIdentity(cluster: "test", role: .client, name: "alice", tenant: "acme")
        #expect(identity.uri == "flotilla://test/client/alice?tenant=acme")
        #expect(NodeIdentity(uri: identity.uri) == identity)
    }

    @Test func regionAndTenantParseInEitherOrder() throws {
        let identity = NodeIdentity(cluster: "test", role: .client, name: "alice", region: "eu-west", tenant: "acme")
        #expect(identity.uri == "flotilla://test/client/alice?region=eu-west&tenant=acme")
        #expect(NodeIdentity(uri: identity.uri) == identity)
        #expect(NodeIdentity(uri: "flotilla://test/client/alice?tenant=acme&region=eu-west") == identity)
    }

    @Test func identitiesWithoutATenantParseAsBefore() throws {
        #expect(NodeIdentity(uri: "flotilla://demo/coordinator/c1?region=us-east")
                    == NodeIdentity(cluster: "demo", role: .coordinator, name: "c1", region: "us-east"))
        let client = try #require(NodeIdentity(uri: "flotilla://demo/client/bob"))
        #expect(client.tenant == nil && client.region == nil)
    }

    @Test(arguments: [
        "flotilla://test/client/alice?tenant=",              // empty tenant
        "flotilla://test/client/alice?tenant=ac%20me",       // percent-encoding
        "flotilla://test/client/alice?tenant=a/b",           // not a name
        "flotilla://test/client/alice?tenant=a&tenant=b",    // twice
        "flotilla://test/client/alice?region=r&region=s",
        "flotilla://test/client/alice?tenant=a&",            // empty parameter
        "flotilla://test/client/alice?tenant",               // no value
        "flotilla://test/client/alice?owner=a",              // unknown parameter
        "flotilla://test/client/alice?",                     // empty query
        "flotilla://test/worker/w1?tenant=acme",             // tenant on a non-client role
        "flotilla://test/admin/ops?region=r&tenant=acme",
    ])
    func malformedTenantQueriesCarryNoIdentity(_ uri: String) {
        #expect(NodeIdentity(uri: uri) == nil)
    }

    @Test func tooLongATenantIsRefused() {
        let tenant = String(repeating: "t", count: 129)
        #expect(NodeIdentity(uri: "flotilla://test/client/alice?tenant=\(tenant)") == nil)
        #expect(NodeIdentity(uri: "flotilla://test/client/alice?tenant=\(tenant.dropLast())") != nil)
    }

    @Test func aClientCertificateCarriesItsTenant() throws {
        let identity = NodeIdentity(cluster: "test", role: .client, name: "alice", region: "eu-west", tenant: "acme")
        let info = try CertificateInfo(pem: Self.ca.get().issue(identity: identity).certificatePEM)
        #expect(info.uris == ["flotilla://test/client/alice?region=eu-west&tenant=acme"])
        #expect(info.identity == identity)
    }

    @Test(arguments: NodeRole.allCases.filter { $0 != .client })
    func onlyClientCertificatesMayNameATenant(_ role: NodeRole) throws {
        let ca = try Self.ca.get()
        #expect(throws: PKIError.invalidName("a tenant binds only client certificates, not role \(role.rawValue)")) {
            try ca.issue(identity: NodeIdentity(cluster: "test", role: role, name: "n1", tenant: "acme"))
        }
    }

    @Test(arguments: ["", "ac me", "acme,URI:flotilla://test/admin/x", "a&region=b"])
    func invalidTenantsAreNotIssued(_ tenant: String) throws {
        let ca = try Self.ca.get()
        #expect(throws: PKIError.self) {
            try ca.issue(identity: NodeIdentity(cluster: "test", role: .client, name: "alice", tenant: tenant))
        }
    }
}
