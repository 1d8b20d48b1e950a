import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh directory under the system temporary directory, so that tests running in
/// parallel never share files. Call `remove()` when done.
public struct TemporaryDirectory: Sendable {
    public let url: URL

    public var path: String { url.path }

    public init(prefix: String = "flotilla-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array("\(base)/\(prefix)-XXXXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base + "/" + prefix])
        }
        url = URL(fileURLWithPath: String(cString: created), isDirectory: true)
    }

    public func appending(_ component: String) -> URL {
        url.appendingPathComponent(component)
    }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
