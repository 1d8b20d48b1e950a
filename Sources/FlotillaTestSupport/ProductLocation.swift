import Foundation

/// Where SwiftPM put the executables of this build: the directory of the running test
/// binary (`<scratch>/<config>/FlotillaPackageTests.xctest` on Linux, the directory holding
/// the .xctest bundle on macOS), which follows any `--scratch-path`. `FLOTILLA_PRODUCTS_DIR`
/// overrides it.
public func productsDirectory() -> URL {
    if let override = ProcessInfo.processInfo.environment["FLOTILLA_PRODUCTS_DIR"], !override.isEmpty {
        return URL(fileURLWithPath: override, isDirectory: true)
    }
    #if os(macOS)
    if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    #endif
    let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    return executable.resolvingSymlinksInPath().deletingLastPathComponent()
}

/// A built product of this package, e.g. `productURL("flotillactl")`.
public func productURL(_ name: String) -> URL {
    productsDirectory().appendingPathComponent(name)
}

/// The first executable named `name` on PATH, e.g. the `openssl` CLI.
public func executableOnPath(_ name: String) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}
