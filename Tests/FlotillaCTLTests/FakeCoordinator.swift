import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf

/// A coordinator double behind a real `FlotillaServer` (so TLS, the handshake and the
/// real RolePolicy all apply): answers each request with what the test scripted and
/// records every request that got past the role check.
final class FakeCoordinator: FlotillaService, @unchecked Sendable {
    typealias Script = @Sendable (any SwiftProtobuf.Message) -> ServiceReply

    // Guards `received`; requests arrive on NIO's threads while the test reads.
    private let lock = NSLock()
    private var received: [any SwiftProtobuf.Message] = []
    private let script: Script

    init(_ script: @escaping Script) {
        self.script = script
    }

    var requests: [any SwiftProtobuf.Message] { lock.withLock { received } }

    func requests<M: SwiftProtobuf.Message>(of type: M.Type) -> [M] { requests.compactMap { $0 as? M } }

    func handle(_ request: InboundRequest) async -> ServiceReply {
        lock.withLock { received.append(request.message) }
        return script(request.message)
    }

    /// A stream that yields `items` and ends normally.
    static func stream(_ items: [any SwiftProtobuf.Message]) -> ServiceReply {
        .stream(AsyncThrowingStream { continuation in
            for item in items { continuation.yield(item) }
            continuation.finish()
        })
    }
}
