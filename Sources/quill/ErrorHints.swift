import ArgumentParser
import Quill

/// The CLI's hints for the library's errors: the library says what is wrong and the fix in its own terms; the flag
/// that applies the fix is the CLI's to name, here in one place.
enum ErrorHints {
    /// The command-line hint for a known error, or nil.
    static func hint(for error: any Error) -> String? {
        switch error {
        case TextError.invalidUTF8:
            return "pass --lossy to do so"
        case EvaluationError.textTooShort(_, _, let tokens, let batch) where tokens >= 2 && batch > 1:
            return "lower --batch"
        case let error as DecodingOptionsError:
            switch error {
            case .invalid(let option, _): return "see \(flag(option))"
            }
        default:
            return nil
        }
    }

    /// The flag that sets a decoding option (``DecodingArguments``).
    static func flag(_ option: DecodingOptionsError.Option) -> String {
        switch option {
        case .temperature: return "--temperature"
        case .topK: return "--top-k"
        case .topP: return "--top-p"
        case .beamWidth: return "--beam"
        case .maxTokens: return "--max-tokens"
        }
    }

    /// `error` with its hint appended (`<message>; <hint>`), or `error` itself when there is none, so that
    /// ArgumentParser's own errors and exit codes pass through unchanged.
    static func withHint(_ error: any Error) -> any Error {
        guard let hint = hint(for: error) else { return error }
        return CLIError("\(error); \(hint)")
    }
}
