import ArgumentParser
import FlotillaProto

/// A priority tier as typed on the command line.
enum TierArgument: String, ExpressibleByArgument, CaseIterable {
    case premium, standard, free

    var proto: Flotilla_V1_Tier {
        switch self {
        case .premium: return .premium
        case .standard: return .standard
        case .free: return .free
        }
    }
}

/// A job state filter as typed on the command line.
enum JobStateArgument: String, ExpressibleByArgument, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    var proto: Flotilla_V1_JobState {
        switch self {
        case .queued: return .queued
        case .running: return .running
        case .succeeded: return .succeeded
        case .failed: return .failed
        case .cancelled: return .cancelled
        }
    }
}

/// One `key=value` of `--param` or `--label`; the value may itself contain '='.
struct KeyValueArgument: ExpressibleByArgument {
    let key: String
    let value: String

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        key = String(argument[..<equals])
        value = String(argument[argument.index(after: equals)...])
    }

    static var defaultCompletionKind: CompletionKind { .default }

    /// The pairs as a map; a key given twice is a usage error rather than a silent overwrite.
    static func dictionary(_ pairs: [KeyValueArgument], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard result.updateValue(pair.value, forKey: pair.key) == nil else {
                throw ValidationError("\(option) \(pair.key) is given twice")
            }
        }
        return result
    }
}
