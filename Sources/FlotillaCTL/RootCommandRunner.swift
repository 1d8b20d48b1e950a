import ArgumentParser
import Foundation

extension Flotillactl {
    /// Parses `arguments` (default: the process's), runs the chosen command and exits.
    /// Usage errors and help go through ArgumentParser; any other error becomes a single
    /// "flotillactl: <message>" line on standard error and a non-zero exit status.
    public static func runAsRoot(_ arguments: [String]? = nil) async -> Never {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            exit()
        } catch let error where isArgumentParserError(error) {
            exit(withError: error)
        } catch let failure as CommandFailure {
            fail(failure.message, status: failure.exitCode)
        } catch let error as LocalizedError where error.errorDescription != nil {
            fail(error.errorDescription!, status: ExitCode.failure.rawValue)
        } catch {
            fail(String(describing: error), status: ExitCode.failure.rawValue)
        }
    }

    /// Help, clean exits and usage errors are ArgumentParser's own types (some internal,
    /// such as the error the `help` subcommand throws); it alone knows how to print them.
    private static func isArgumentParserError(_ error: any Error) -> Bool {
        error is CleanExit || error is ExitCode || error is ValidationError
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    private static func fail(_ message: String, status: Int32) -> Never {
        let line = "flotillactl: " + message.replacingOccurrences(of: "\n", with: " ") + "\n"
        FileHandle.standardError.write(Data(line.utf8))
        Foundation.exit(status)
    }
}
