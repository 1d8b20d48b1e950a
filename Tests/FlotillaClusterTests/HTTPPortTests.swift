import FlotillaProto
import FlotillaTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ProcessClusterTests {
    /// The plain-HTTP port has its own connection cap and idle timeout (issue 8, item 7).
    /// Before, about 1,000 idle connections used every descriptor and the mutual-TLS port
    /// stopped accepting.
    @Suite struct HTTPPortTests {
        /// A TCP connection to 127.0.0.1:`port` that sends nothing.
        static func idleConnection(to port: Int) throws -> Int32 { try loopbackSocket(port: port) }

        /// True once the server has closed `fd` (a read returns end-of-file).
        static func closedByServer(_ fd: Int32, within limit: Duration) async -> Bool {
            var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if Glibc.poll(&poll, 1, 20) > 0 {
                    var byte: UInt8 = 0
                    return read(fd, &byte, 1) <= 0
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return false
        }

        @Test func idleConnectionsAreCappedAndTimedOutAndTheProtocolPortServes() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = ["http.max_connections": "8", "http.idle_timeout": "1s"]
                try await cluster.startCoordinator()
                let held = try (0..<8).map { _ in try Self.idleConnection(to: cluster.httpPort) }
                defer { held.forEach { _ = close($0) } }
                try await Task.sleep(for: .milliseconds(200))
                // Past the cap, a new connection is closed at once.
                let extra = try Self.idleConnection(to: cluster.httpPort)
                defer { close(extra) }
                #expect(await Self.closedByServer(extra, within: .milliseconds(800)))
                // The protocol port is untouched.
                let admin = try await cluster.admin()
                _ = try await admin.request(Flotilla_V1_ClusterStatusRequest(), expecting: Flotilla_V1_ClusterStatusResponse.self)
                // The idle ones are closed after the idle timeout, and the port answers again.
                for fd in held { #expect(await Self.closedByServer(fd, within: .seconds(5))) }
                try await Task.sleep(for: .milliseconds(100))
                #expect(try await httpGet(port: cluster.httpPort, path: "/healthz").status == 200)
            }
        }
    }
}
