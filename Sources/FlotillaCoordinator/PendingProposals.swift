import FlotillaCoordinatorState
import FlotillaTransport

/// Proposals of this coordinator waiting for their entries to commit (replicated log only).
/// A batch resolves with every command's outcome once its last entry is applied. It fails
/// with NOT_LEADER when another entry takes one of its places (a newer leader's log won),
/// when a snapshot covers it, or when this coordinator stops leading before it committed:
/// the entry may still commit, so a client retries with its idempotency key.
struct PendingProposals {
    private struct Batch {
        let first: UInt64
        let term: UInt64
        var outcomes: [CommandOutcome?]
        let continuation: CheckedContinuation<[CommandOutcome], any Error>
        var remaining: Int
    }

    /// By first index.
    private var batches: [UInt64: Batch] = [:]
    /// Index → its batch's first index.
    private var batchOf: [UInt64: UInt64] = [:]

    var count: Int { batches.count }

    mutating func add(first: UInt64, count: Int, term: UInt64,
                      _ continuation: CheckedContinuation<[CommandOutcome], any Error>) {
        batches[first] = Batch(first: first, term: term, outcomes: Array(repeating: nil, count: count),
                               continuation: continuation, remaining: count)
        for index in first..<(first + UInt64(count)) { batchOf[index] = first }
    }

    /// The entry at `index` of `term` was applied with `outcome` (nil: it held no command).
    mutating func applied(index: UInt64, term: UInt64, outcome: CommandOutcome?,
                          orElse error: @autoclosure () -> FlotillaError) {
        guard let first = batchOf[index], var batch = batches[first] else { return }
        guard batch.term == term, let outcome else { return fail(first, error()) }
        batchOf[index] = nil
        batch.outcomes[Int(index - first)] = outcome
        batch.remaining -= 1
        if batch.remaining == 0 {
            batches[first] = nil
            batch.continuation.resume(returning: batch.outcomes.map { $0! })
        } else {
            batches[first] = batch
        }
    }

    /// Fails every batch with an entry at or below `index` (a snapshot replaced them).
    mutating func fail(through index: UInt64, _ error: FlotillaError) {
        for first in batches.keys where first <= index { fail(first, error) }
    }

    mutating func failAll(_ error: FlotillaError) {
        for first in Array(batches.keys) { fail(first, error) }
    }

    private mutating func fail(_ first: UInt64, _ error: FlotillaError) {
        guard let batch = batches.removeValue(forKey: first) else { return }
        for offset in 0..<batch.outcomes.count { batchOf[first + UInt64(offset)] = nil }
        batch.continuation.resume(throwing: error)
    }
}
