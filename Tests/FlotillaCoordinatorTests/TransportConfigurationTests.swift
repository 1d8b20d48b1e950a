import FlotillaConfig
import FlotillaCoordinator
import FlotillaPKI
import Testing

@Suite struct TransportConfigurationTests {
    let tls = "tls: {cert: c.pem, key: k.pem, ca: ca.pem}\n"

    @Test func budgetsAreReadFromTheFileAndTheEnvironment() throws {
        let configuration = try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls + """
            transport:
              max_in_flight: 64
              max_connections_per_role: {worker: 5}
            http: {max_connections: 8, idle_timeout: 2s}
            """, environment: ["FLOTILLA_TRANSPORT_MAX_ONE_WAY_IN_FLIGHT": "4"]))
        #expect(configuration.transport.maxInFlight == 64)
        #expect(configuration.transport.maxOneWayInFlight == 4)
        #expect(configuration.transport.maxConnectionsPerRole[.worker] == 5)
        #expect(configuration.transport.maxConnectionsPerRole[.client] == 1_000)
        #expect(configuration.http.maxConnections == 8)
        #expect(configuration.http.idleTimeout == .seconds(2))
    }

    @Test func aLowMarkAboveTheHighMarkIsRefused() throws {
        let error = try #require(throws: ConfigError.self) {
            try CoordinatorConfiguration(reader: try ConfigReader(yaml: tls + """
                transport: {write_buffer_high_water: 65536, write_buffer_low_water: 65536}
                """))
        }
        #expect(error.key == "transport.write_buffer_low_water")
    }
}
