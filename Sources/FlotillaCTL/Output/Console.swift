import Foundation

/// Standard output, written per line without buffering: `jobs watch` is often piped, and
/// a buffered pipe would hold events back until it filled.
enum Console {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
