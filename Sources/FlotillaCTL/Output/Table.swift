import Foundation

/// Rows under a header, each column padded to its widest cell, as `nomad` and `kubectl` print.
struct Table {
    let header: [String]
    private(set) var rows: [[String]] = []

    init(_ header: String...) {
        self.header = header
    }

    mutating func append(_ row: [String]) {
        precondition(row.count == header.count, "a row needs one cell per column")
        rows.append(row)
    }

    /// The header and rows, two spaces between columns, no trailing spaces.
    var text: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingTrailingSpaces
        }.joined(separator: "\n")
    }
}

/// `key: value` lines with the values aligned, for one record (`jobs get`, `status`).
struct Fields {
    private(set) var lines: [(key: String, value: String)] = []

    mutating func append(_ key: String, _ value: String) {
        lines.append((key, value))
    }

    var text: String {
        let width = (lines.map(\.key.count).max() ?? 0) + 1
        return lines.map { line in
            ((line.key + ":").padding(toLength: width, withPad: " ", startingAt: 0) + " " + line.value).trimmingTrailingSpaces
        }.joined(separator: "\n")
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
