import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reloads TLS contexts when the process receives SIGHUP, so an operator rotates a node's
/// certificate by replacing the files and sending the signal: new connections get the
/// new material, no connection is dropped. A failed reload keeps the old material and is
/// reported. Executables keep one alive for the life of the process.
///
/// `@unchecked Sendable`: its stored properties are immutable, and a dispatch source may
/// be cancelled from any thread.
public final class SighupReloader: @unchecked Sendable {
    private let source: any DispatchSourceSignal
    private let contexts: [TLSContext]
    private let report: @Sendable (String) -> Void

    /// `report` receives one line per context and signal, failures included; by default it
    /// prints to standard error.
    public init(
        contexts: [TLSContext],
        report: @escaping @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    ) {
        self.contexts = contexts
        self.report = report
        // The default action of SIGHUP ends the process; the dispatch source still sees it.
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "flotilla.tls.sighup"))
        source.setEventHandler { [contexts, report] in
            Self.reload(contexts, report: report)
        }
        source.resume()
    }

    deinit {
        source.cancel()
    }

    /// Reloads every context now, as a SIGHUP would; returns the failures.
    @discardableResult
    public func reloadNow() -> [any Error] {
        Self.reload(contexts, report: report)
    }

    @discardableResult
    private static func reload(_ contexts: [TLSContext], report: @Sendable (String) -> Void) -> [any Error] {
        var failures: [any Error] = []
        for context in contexts {
            do {
                try context.reload()
                let expiry = context.certificate.map { ", valid until \($0.notAfter)" } ?? ""
                report("reloaded TLS certificate \(context.configuration.certificatePath)\(expiry)")
            } catch {
                failures.append(error)
                report("TLS reload failed, keeping the previous certificate: \(error)")
            }
        }
        return failures
    }

    /// Stops listening for SIGHUP (the signal stays ignored).
    public func cancel() {
        source.cancel()
    }
}
