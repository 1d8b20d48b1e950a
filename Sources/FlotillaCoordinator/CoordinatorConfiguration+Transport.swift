import FlotillaConfig
import FlotillaPKI
import FlotillaTransport

extension CoordinatorConfiguration {
    /// `transport.*`: the per-connection and per-process budgets of PROTOCOL.md §7.1.
    static func transport(_ reader: ConfigReader) throws -> TransportConfiguration {
        var transport = TransportConfiguration()
        transport.maxInFlight = try reader.integer("transport.max_in_flight", default: transport.maxInFlight, in: 1...65_536)
        transport.maxOneWayInFlight = try reader.integer(
            "transport.max_one_way_in_flight", default: transport.maxOneWayInFlight, in: 1...65_536)
        transport.maxInFlightBytes = try reader.integer(
            "transport.max_in_flight_bytes", default: transport.maxInFlightBytes, in: (64 << 10)...(1 << 30))
        transport.writeBufferHighWater = try reader.integer(
            "transport.write_buffer_high_water", default: transport.writeBufferHighWater, in: (16 << 10)...(1 << 30))
        transport.writeBufferLowWater = try reader.integer(
            "transport.write_buffer_low_water", default: transport.writeBufferLowWater, in: 0...(1 << 30))
        guard transport.writeBufferLowWater < transport.writeBufferHighWater else {
            throw ConfigError(key: "transport.write_buffer_low_water", "must be below transport.write_buffer_high_water")
        }
        transport.maxPartialFrameBytes = try reader.integer(
            "transport.max_partial_frame_bytes", default: transport.maxPartialFrameBytes, in: (1 << 20)...(1 << 34))
        transport.maxConnections = try reader.integer(
            "transport.max_connections", default: transport.maxConnections, in: 1...1_000_000)
        for role in NodeRole.allCases {
            let key = "transport.max_connections_per_role.\(role.rawValue)"
            transport.maxConnectionsPerRole[role] = try reader.integer(
                key, default: transport.maxConnectionsPerRole[role] ?? transport.maxConnections, in: 0...1_000_000)
        }
        return transport
    }
}
