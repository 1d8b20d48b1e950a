import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaWire
import NIOCore
import NIOPosix
import SwiftProtobuf

/// A client of a cluster given several addresses: connects to the first that answers,
/// reconnects with exponential backoff and jitter, and follows NOT_LEADER hints.
public actor ClusterClient {
    public let endpoints: [Endpoint]
    public nonisolated let tls: TLSContext
    private let local: LocalNode
    private let expectedRole: NodeRole?
    private let configuration: TransportConfiguration
    private let backoff: Backoff
    private let connectAttempts: Int
    private let group: any EventLoopGroup
    private var current: (endpoint: Endpoint, connection: FlotillaConnection)?
    private var leaderHint: Endpoint?
    private var cursor = 0
    private var random = SystemRandomNumberGenerator()

    /// How many NOT_LEADER redirects one request follows before giving up.
    public static let maxRedirects = 5

    public init(
        endpoints: [Endpoint], tls: TLSContext, local: LocalNode, expectedRole: NodeRole? = .coordinator,
        configuration: TransportConfiguration = .init(), backoff: Backoff = .init(), connectAttempts: Int = 8,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        precondition(!endpoints.isEmpty, "a cluster client needs at least one address")
        self.endpoints = endpoints
        self.tls = tls
        self.local = local
        self.expectedRole = expectedRole
        self.configuration = configuration
        self.backoff = backoff
        self.connectAttempts = connectAttempts
        self.group = group
    }

    /// The endpoint of the live connection, if any.
    public var connectedEndpoint: Endpoint? { current?.endpoint }

    /// A live connection: the current one, or a new one to the leader hint or the next address.
    public func connection() async throws -> FlotillaConnection {
        if let current, current.connection.isActive { return current.connection }
        current = nil
        var lastError: any Error = FlotillaError(.unavailable, "no address answered")
        for attempt in 0..<connectAttempts {
            let endpoint = leaderHint ?? endpoints[cursor % endpoints.count]
            leaderHint = nil
            do {
                let connection = try await FlotillaConnection.connect(
                    host: endpoint.host, port: endpoint.port, tls: tls, local: local, expectedRole: expectedRole,
                    configuration: configuration, group: group)
                current = (endpoint, connection)
                return connection
            } catch let error as FlotillaError where error.code == .unsupportedVersion || error.code == .permissionDenied || error.code == .unauthenticated {
                throw error  // retrying cannot fix a refusal
            } catch {
                lastError = error
                cursor += 1
            }
            if attempt + 1 < connectAttempts {
                let wait = backoff.delay(attempt: attempt, using: &random)
                try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000))
            }
        }
        throw (lastError as? FlotillaError) ?? FlotillaError(.unavailable, "\(lastError)")
    }

    /// Sends a request, following NOT_LEADER hints and, for requests that are
    /// safe to repeat (PROTOCOL.md §8.3), reconnecting and resending once after
    /// a lost connection.
    public func request(_ message: any SwiftProtobuf.Message, timeout: TimeAmount? = nil) async throws -> Envelope {
        var redirects = 0
        var reconnected = false
        while true {
            let connection = try await connection()
            do {
                return try await connection.request(message, timeout: timeout)
            } catch let error as FlotillaError where error.code == .notLeader {
                guard redirects < Self.maxRedirects else { throw error }
                redirects += 1
                await dropConnection()
                if let hint = error.leaderHint.flatMap(Endpoint.init) {
                    leaderHint = hint
                } else {
                    cursor += 1
                    try await Task.sleep(nanoseconds: UInt64(backoff.delay(attempt: redirects, using: &random) * 1_000_000))
                }
            } catch let error as FlotillaError
                        where error.code == .unavailable && !connection.isActive && !reconnected && Self.mayResend(message) {
                reconnected = true
                current = nil
            } catch let error as FlotillaError where error.code == .deadlineExceeded {
                // A server that holds the connection open but answers nothing (frozen, or cut
                // off behind a live socket): the next request goes to the next address.
                await dropConnection()
                cursor += 1
                throw error
            }
        }
    }

    public func request<R: SwiftProtobuf.Message>(_ message: any SwiftProtobuf.Message, expecting: R.Type, timeout: TimeAmount? = nil) async throws -> R {
        let envelope = try await request(message, timeout: timeout)
        guard let answer = envelope.message(as: R.self) else {
            throw FlotillaError(.internal, "expected \(R.protoMessageName), got \(envelope.kind)")
        }
        return answer
    }

    /// PROTOCOL.md §8.3: everything Flotilla sends may be repeated except a
    /// submission without an idempotency key and a drill.
    static func mayResend(_ message: any SwiftProtobuf.Message) -> Bool {
        if let submit = message as? Flotilla_V1_SubmitJobRequest { return !submit.spec.idempotencyKey.isEmpty }
        return !(message is Flotilla_V1_DrillRequest)
    }

    /// Gives up on the current server (it stopped answering on a live connection): the
    /// next request connects to the next address.
    public func abandonConnection() async {
        await dropConnection()
        cursor += 1
    }

    private func dropConnection() async {
        if let current { await current.connection.close() }
        current = nil
    }

    public func close() async {
        await dropConnection()
    }
}
