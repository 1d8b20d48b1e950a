import Foundation

/// A scenario script in the data-driven style of etcd-io/raft's testdata: each case is a
/// command line, a `----` line, and the expected output up to a blank line. Lines starting
/// with `#` before a command are comments and are kept when the file is rewritten.
struct ScriptFile {
    struct Case {
        var comments: [String]
        var command: String
        var expected: String
        var line: Int
    }

    var cases: [Case]

    init(parsing text: String) throws {
        var cases: [Case] = []
        var comments: [String] = []
        let lines = text.components(separatedBy: "\n")
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("#") {
                comments.append(line)
                index += 1
                continue
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !comments.isEmpty { comments.append(line) }
                index += 1
                continue
            }
            let commandLine = index + 1
            index += 1
            guard index < lines.count, lines[index] == "----" else {
                throw ScriptError(message: "line \(commandLine): expected ---- after `\(line)`")
            }
            index += 1
            var expected: [String] = []
            while index < lines.count, !lines[index].isEmpty {
                expected.append(lines[index])
                index += 1
            }
            cases.append(Case(comments: comments, command: line, expected: expected.joined(separator: "\n"), line: commandLine))
            comments = []
        }
        self.cases = cases
    }

    /// The file again with each case's expected output replaced by what it printed.
    func rendered(outputs: [String]) -> String {
        var text = ""
        for (item, output) in zip(cases, outputs) {
            for comment in item.comments { text += comment + "\n" }
            text += item.command + "\n----\n" + (output.isEmpty ? "ok" : output) + "\n\n"
        }
        return text
    }
}

struct ScriptError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A command line: `name positional... key=value...`.
struct ScriptCommand {
    var name: String
    var positional: [String]
    var options: [String: String]

    init(_ line: String) {
        let words = line.split(separator: " ").map(String.init)
        name = words.first ?? ""
        positional = []
        options = [:]
        for word in words.dropFirst() {
            if let equals = word.firstIndex(of: "=") {
                options[String(word[..<equals])] = String(word[word.index(after: equals)...])
            } else {
                positional.append(word)
            }
        }
    }

    func list(_ key: String) -> [String]? {
        options[key].map { $0.isEmpty ? [] : $0.split(separator: ",").map(String.init) }
    }

    func flag(_ key: String, default value: Bool) -> Bool {
        options[key].map { $0 == "true" } ?? value
    }

    func int(_ key: String, default value: Int) -> Int {
        options[key].flatMap { Int($0) } ?? value
    }
}
