import Foundation

/// Work for the writer thread, done in arrival order.
enum LogOperation: Sendable {
    case append(entries: [LogEntry], done: CheckedContinuation<UInt64, any Error>)
    /// Entries of one term whose indices the log assigns as it appends them.
    case appendPayloads(term: UInt64, payloads: [[UInt8]], done: CheckedContinuation<UInt64, any Error>)
    case truncateSuffix(after: UInt64, done: CheckedContinuation<Void, any Error>)
    case installSnapshot(temporary: String, index: UInt64, term: UInt64, done: CheckedContinuation<Void, any Error>)
    case close(done: CheckedContinuation<Void, Never>?)
}

/// Does every write of one log on a thread of its own, so that appends share syncs: the
/// thread takes everything queued, writes it, syncs once, and only then resumes those
/// appenders; whatever arrives meanwhile waits for the next sync. The sync blocks, hence a
/// thread rather than a task on the cooperative pool.
final class GroupCommitter: @unchecked Sendable {
    private let store: SegmentStore
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [LogOperation] = []
    private var accepting = true

    init(store: SegmentStore) {
        self.store = store
        let thread = Thread { [self] in run() }
        thread.name = "flotilla-log-writer"
        thread.start()
    }

    /// Queues `operation`; false once a close has been queued.
    func submit(_ operation: LogOperation) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { return false }
        if case .close = operation { accepting = false }
        queue.append(operation)
        condition.signal()
        return true
    }

    private func run() {
        var running = true
        while running {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            running = perform(batch)
        }
    }

    /// Performs a batch; appends between other operations share one sync. False after a close.
    private func perform(_ batch: [LogOperation]) -> Bool {
        var staged: [LogEntry] = []
        var waiting: [(done: CheckedContinuation<UInt64, any Error>, lastIndex: UInt64)] = []
        var nextIndex = store.nextIndex

        func commit() {
            guard !waiting.isEmpty else { return }
            do {
                try store.append(staged)
                for appender in waiting { appender.done.resume(returning: appender.lastIndex) }
            } catch {
                for appender in waiting { appender.done.resume(throwing: error) }
            }
            staged.removeAll()
            waiting.removeAll()
            nextIndex = store.nextIndex
        }

        for operation in batch {
            switch operation {
            case .append(let entries, let done):
                if let wrong = zip(entries, nextIndex...).first(where: { $0.index != $1 }) {
                    done.resume(throwing: LogError.nonContiguousAppend(expected: wrong.1, got: wrong.0.index))
                    continue
                }
                staged += entries
                nextIndex += UInt64(entries.count)
                waiting.append((done, nextIndex - 1))
            case .appendPayloads(let term, let payloads, let done):
                for payload in payloads {
                    staged.append(LogEntry(index: nextIndex, term: term, payload: payload))
                    nextIndex += 1
                }
                waiting.append((done, nextIndex - 1))
            case .truncateSuffix(let index, let done):
                commit()
                done.resume(with: Result { try store.truncateSuffix(after: index) })
                nextIndex = store.nextIndex
            case .installSnapshot(let temporary, let index, let term, let done):
                commit()
                done.resume(with: Result { try store.installSnapshot(temporary: temporary, index: index, term: term) })
                nextIndex = store.nextIndex
            case .close(let done):
                commit()
                store.close()
                done?.resume()
                return false
            }
        }
        commit()
        return true
    }
}
