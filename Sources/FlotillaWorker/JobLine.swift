import Foundation

/// A line a process job prints on stdout (PROTOCOL.md §11.3, process executor).
enum JobLine: Sendable, Hashable {
    /// `PROGRESS <step> <total>`
    case progress(step: UInt64, total: UInt64)
    /// `CHECKPOINT <step> <path>`: the path may contain spaces; it runs to the end of the line.
    case checkpoint(step: UInt64, path: String)
    /// Anything else: logged, not interpreted.
    case other(String)

    init(_ line: String) {
        let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        switch words.first.map(String.init) {
        case "PROGRESS"? where words.count == 3:
            if let step = UInt64(words[1]), let total = UInt64(words[2].trimmingCharacters(in: .whitespaces)) {
                self = .progress(step: step, total: total)
                return
            }
        case "CHECKPOINT"? where words.count == 3:
            let path = words[2].trimmingCharacters(in: .whitespaces)
            if let step = UInt64(words[1]), !path.isEmpty {
                self = .checkpoint(step: step, path: path)
                return
            }
        default:
            break
        }
        self = .other(line)
    }
}
