import NIOConcurrencyHelpers

/// What one connection's peer may send at full size. Until the handshake completes only
/// Hello may; afterwards, the kinds its role is permitted (PROTOCOL.md §9). A frame of any
/// other kind is held to `refusedKindLimit`: small enough to read and answer with
/// PERMISSION_DENIED, too small to make the server buffer megabytes for a frame it will refuse.
///
/// `@unchecked Sendable`: set by the connection's protocol handler and read by its frame
/// decoder, both on the channel's event loop.
public final class PeerAdmission: @unchecked Sendable {
    public static let refusedKindLimit = 8 << 10
    /// nil: the handshake is not complete.
    public var permitted: Set<MessageKind>?

    public init(permitted: Set<MessageKind>? = nil) {
        self.permitted = permitted
    }

    /// The payload limit of a frame of `kind` from this peer.
    public func limit(for kind: MessageKind, flags: FrameFlags, configuration: WireConfiguration) -> Int {
        let base = configuration.payloadLimit(for: kind, flags: flags)
        guard configuration.limitsRequestsByKind, !flags.contains(.response) else { return base }
        let admitted = permitted.map { $0.contains(kind) } ?? (kind == .hello)
        return admitted ? base : min(base, Self.refusedKindLimit)
    }
}

/// The bytes a whole process lets its connections hold in partial large frames. Without
/// it, a thousand clients each holding 1 MiB of a declared SubmitJob cost a gigabyte; with
/// it, the connection that would pass the budget is refused (`WireError.busy`) and retries.
/// Frames up to `smallFrameBytes` need no reservation: each connection holds at most one.
public final class PartialFrameBudget: Sendable {
    public static let smallFrameBytes = 64 << 10
    public let capacity: Int
    private let used = NIOLockedValueBox(0)

    public init(capacity: Int = 64 << 20) {
        self.capacity = capacity
    }

    public var reserved: Int { used.withLockedValue { $0 } }

    /// Reserves `bytes`, or nil when that would pass the capacity.
    func reserve(_ bytes: Int) -> Reservation? {
        let granted = used.withLockedValue { used in
            guard used + bytes <= capacity else { return false }
            used += bytes
            return true
        }
        return granted ? Reservation(budget: self, bytes: bytes) : nil
    }

    fileprivate func release(_ bytes: Int) {
        used.withLockedValue { $0 -= bytes }
    }

    /// Held while a large frame is incomplete; released when the frame completes or the
    /// decoder holding it goes away (the connection closed), whichever comes first.
    final class Reservation: Sendable {
        let budget: PartialFrameBudget
        let bytes: Int
        init(budget: PartialFrameBudget, bytes: Int) {
            self.budget = budget
            self.bytes = bytes
        }
        deinit { budget.release(bytes) }
    }
}
