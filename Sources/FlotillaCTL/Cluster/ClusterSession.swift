import FlotillaPKI
import FlotillaProto
import FlotillaTLS
import FlotillaTransport
import FlotillaWire
import Foundation
import NIOCore
import SwiftProtobuf

/// One command's conversation with the cluster: the client certificate's identity, a
/// `ClusterClient` that follows leader hints, and protocol errors turned into messages
/// that say what to do.
struct ClusterSession: Sendable {
    /// An interactive command should fail within seconds when nothing listens, not
    /// retry for the 8 attempts a long-lived node would.
    static let connectAttempts = 3

    let settings: ConnectionSettings
    let identity: NodeIdentity
    let client: ClusterClient

    /// Runs `body` with a session for `options` and closes the connection afterwards,
    /// whether `body` succeeded or not.
    static func with<T>(_ options: ConnectionOptions, _ body: (ClusterSession) async throws -> T) async throws -> T {
        let session = try ClusterSession(settings: options.resolve())
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    init(settings: ConnectionSettings) throws {
        self.settings = settings
        identity = try Self.identity(certificatePath: settings.certificate)
        let tls: TLSContext
        do {
            tls = try TLSContext(
                configuration: TLSConfiguration(
                    certificatePath: settings.certificate, privateKeyPath: settings.privateKey,
                    trustRootsPath: settings.caCertificate),
                mode: .client)
        } catch let error as TLSError {
            throw CommandFailure(error.description)
        }
        var configuration = TransportConfiguration()
        let answer = TimeAmount.milliseconds(Int64(settings.timeout * 1000))
        configuration.requestTimeout = answer
        // Every connect attempt must fit in the one --timeout budget.
        configuration.handshakeTimeout = .milliseconds(max(500, Int64(settings.timeout * 1000) / Int64(Self.connectAttempts)))
        client = ClusterClient(
            endpoints: settings.endpoints, tls: tls, local: LocalNode(identity: identity),
            configuration: configuration, connectAttempts: Self.connectAttempts)
    }

    /// The Hello must repeat the certificate's identity, so read it from the certificate.
    private static func identity(certificatePath: String) throws -> NodeIdentity {
        let info: CertificateInfo
        do {
            info = try CertificateInfo(contentsOf: URL(fileURLWithPath: certificatePath))
        } catch {
            throw CommandFailure("cannot read the client certificate \(certificatePath): \(error)")
        }
        guard let identity = info.identity else {
            throw CommandFailure(
                "the client certificate \(certificatePath) carries no Flotilla identity (URI flotilla://CLUSTER/ROLE/NAME); "
                    + "issue one with `flotillactl tls cert create --role admin`")
        }
        return identity
    }

    /// Connects (if not yet connected), so that a failure here is reported as the
    /// cluster being unreachable rather than as the request failing.
    @discardableResult
    func connect() async throws -> FlotillaConnection {
        do {
            return try await client.connection()
        } catch let error as FlotillaError {
            throw ProtocolErrorMessage(session: self).connectFailure(error)
        }
    }

    /// Sends `message` and returns the answer as `R`; any protocol error becomes a `CommandFailure`.
    func request<R: SwiftProtobuf.Message>(
        _ message: any SwiftProtobuf.Message, expecting: R.Type, notFound: String? = nil
    ) async throws -> R {
        try await connect()
        do {
            return try await client.request(message, expecting: R.self)
        } catch let error as FlotillaError {
            throw ProtocolErrorMessage(session: self).failure(error, request: message, notFound: notFound)
        }
    }

    func close() async {
        await client.close()
    }
}
