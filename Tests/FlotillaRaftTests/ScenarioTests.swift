import Foundation
import Testing

/// Every script in testdata/ runs as one test case. Set FLOTILLA_REWRITE=1 to write what the
/// scripts print back into them (then read the diff: the expected output is the assertion).
@Suite struct ScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")

    static var scripts: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test(arguments: scripts)
    func script(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        let file = try ScriptFile(parsing: String(contentsOf: url, encoding: .utf8))
        var scenario = Scenario()
        var outputs: [String] = []
        for item in file.cases {
            let output: String
            do {
                output = try scenario.run(item.command)
            } catch {
                Issue.record("\(name):\(item.line): \(error)")
                return
            }
            outputs.append(output)
            if ProcessInfo.processInfo.environment["FLOTILLA_REWRITE"] == nil {
                #expect((output.isEmpty ? "ok" : output) == item.expected, "\(name):\(item.line): \(item.command)")
            }
        }
        if ProcessInfo.processInfo.environment["FLOTILLA_REWRITE"] != nil {
            try file.rendered(outputs: outputs).write(to: url, atomically: true, encoding: .utf8)
        }
    }

    @Test func thereAreScripts() {
        #expect(Self.scripts.count >= 9)
    }
}
