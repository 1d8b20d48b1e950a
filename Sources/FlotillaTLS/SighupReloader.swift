import Dispatch
import Glibc

/// Reloads TLS contexts from disk when the process gets SIGHUP (certificate rotation
/// without dropping connections). A failed reload keeps the old material and is reported.
/// `@unchecked Sendable`: the dispatch source is only resumed at init and cancelled, both thread-safe.
public final class SighupReloader: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    public init(contexts: [TLSContext], report: @escaping @Sendable (String) -> Void) {
        signal(SIGHUP, SIG_IGN)  // let the dispatch source, not the default action, see it
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            for context in contexts {
                do {
                    try context.reload()
                    report("reloaded TLS material from \(context.configuration.certificatePath)")
                } catch {
                    report("TLS reload failed, keeping the previous certificate: \(error)")
                }
            }
        }
        source.resume()
        self.source = source
    }

    public func cancel() { source.cancel() }
}
