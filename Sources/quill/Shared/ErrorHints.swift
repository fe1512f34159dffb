import ArgumentParser
import Quill

/// The CLI's hints for the library's errors, in one place: the library says what is wrong and the fix in its own
/// terms; what to type (the command, the flag) is the CLI's to name. ``QuillCommand/main()`` appends the hint of any
/// error that conforms to ``CommandLineHinted``.
enum ErrorHints {
    /// `error` with its hint appended (`<message>; <hint>`), or `error` itself when there is none, so that
    /// ArgumentParser's own errors and exit codes pass through unchanged.
    /// - Parameter command: the command that failed (nil when parsing failed), for hints that depend on its flags.
    static func withHint(_ error: any Error, in command: (any ParsableCommand)? = nil) -> any Error {
        guard let hinted = error as? any CommandLineHinted, let hint = hinted.commandLineHint(in: command) else {
            return error
        }
        return CLIError("\(error); \(hint)")
    }
}

/// A command with a `--lossy` flag (invalid UTF-8 replaced with U+FFFD): the invalid-UTF-8 hint offers it only then.
protocol LossyReading {}

/// An error of the library that the CLI can follow with what to type: the library says what is wrong and the fix in
/// its own terms; the hint names the commands and flags.
protocol CommandLineHinted: Error, CustomStringConvertible {
    /// What to type to fix it, or nil.
    var commandLineHint: String? { get }
    /// What to type to fix it when `command` failed with it (by default ``commandLineHint``): for a fix that only
    /// some commands' flags apply.
    func commandLineHint(in command: (any ParsableCommand)?) -> String?
}

extension CommandLineHinted {
    func commandLineHint(in command: (any ParsableCommand)?) -> String? { commandLineHint }
}

extension TextError: CommandLineHinted {
    var commandLineHint: String? { commandLineHint(in: nil) }

    func commandLineHint(in command: (any ParsableCommand)?) -> String? {
        switch self {
        case .invalidUTF8 where command is any LossyReading:
            return "pass --lossy to do so"
        case .invalidUTF8:
            return "this command has no --lossy: fix the file, or drop its bad bytes with `iconv -c -f UTF-8 -t UTF-8`"
        default:
            return nil
        }
    }
}

extension StoredModelError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case let .wrongFamily(model, _, .ngram?, .recurrentLanguageModel):
            return "measure it with `quill ngram eval`, or mix it into a recurrent model's suggestions with --mix \(model)"
        case .wrongFamily(_, _, _, .ngram):
            return "train an n-gram model with `quill ngram train`"
        case .wrongFamily:
            return "`quill models list` shows each model's kind"
        case let .vocabularyMismatch(_, _, _, given?, _):
            return "train the model again with --vocabulary \(given)"
        case .vocabularyMismatch, .invalidRecord:
            return nil
        }
    }
}

extension ModelTransferError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .unknownLayout:
            return "name a PyTorch model's submodules with --modules (e.g. --modules embed,rnn,out)"
        case .vocabularyMismatch:
            return "import it with `quill vocab import` and name it with --vocabulary"
        case .invalidMetadata:
            return nil
        }
    }
}

extension NGramTrainingError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .orderOutOfRange: return "choose --order 1…\(KneserNeyModel.maximumOrder)"
        case .vocabularyTooLarge: return "build a smaller vocabulary with `quill vocab build --max-size`"
        }
    }
}

extension EvaluationError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .textTooShort(_, _, let tokens, let batch) where tokens >= 2 && batch > 1: return "lower --batch"
        default: return nil
        }
    }
}

extension DecodingOptionsError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .invalid(let option, _): return "see \(Self.flag(option))"
        }
    }

    /// The flag that sets a decoding option (``DecodingArguments``).
    static func flag(_ option: Option) -> String {
        switch option {
        case .temperature: return "--temperature"
        case .topK: return "--top-k"
        case .topP: return "--top-p"
        case .beamWidth: return "--beam"
        case .maxTokens: return "--max-tokens"
        }
    }
}

extension StoreError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .storeNotFound, .notAQuillStore, .pragmaRefused:
            return "--store PATH or QUILL_STORE chooses the store"
        case .alreadyExists:
            return "pass --replace"
        case .invalidName:
            return "give another name with --name"
        case .checksumMismatch, .corrupt:
            return "`quill store check` lists every damaged record"
        case .sqlite(let code, _, _, _) where code & 0xFF == 11 || code & 0xFF == 26:  // SQLITE_CORRUPT, NOTADB
            return "`quill store check` shows what is damaged"
        case .emptyStore:
            return "`quill store init` (or `quill vocab build`, `quill train`) creates a store"
        case .notFound(let kind, _, _):
            return kind == "model" ? "`quill models list` shows the models"
                : kind == "vocabulary" ? "`quill vocab list` shows the vocabularies"
                : kind == "run" ? "`quill runs list` shows the runs" : nil
        default:
            return nil
        }
    }
}

extension TrainError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .corpusTooSmall: "lower --batch"
        case .batcherMismatch: "resume with the run's own --corpus, --vocabulary, --batch and --bptt"
        default: nil
        }
    }
}

extension QuillError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .unnamedVocabulary: return "pass --name"
        }
    }
}

extension RunSelectionError: CommandLineHinted {
    var commandLineHint: String? {
        switch self {
        case .unknownRuns(_, let existing):
            return existing.isEmpty ? "`quill train` records a run" : "`quill runs list` shows the runs"
        }
    }
}
