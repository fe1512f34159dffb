import ArgumentParser
import Foundation
import Quill

/// `--level`, the same for every command: the library's levels, with `char` short for `character`.
extension TokenLevel: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument == "char" ? "character" : argument) }
}

extension Normalization: ExpressibleByArgument {}

extension SingleValueParsingStrategy {
    /// How a numeric option takes its value: the next argument whatever it starts with, so `--dropout -0.1` reaches
    /// the option's range check (by default ArgumentParser reads `-0.1` as short flags and asks for `--dropout=-0.1`).
    static var number: SingleValueParsingStrategy { .unconditional }
}

/// The range checks of the floating-point options, in one place, so that `nan` and `inf` (which `Double` parses)
/// get the same answer everywhere: refused by name, never let through by a comparison that `nan` fails.
enum NumberRange {
    /// Above 0 and finite (a rate, a scale, minutes).
    static func positive<F: BinaryFloatingPoint>(_ value: F?, _ option: String) throws {
        if let value, !(value > 0 && value.isFinite) {
            throw ValidationError("\(option) must be a finite positive number (got \(value))")
        }
    }

    /// 0 or above, finite; `zero` says what 0 means (`no clipping`).
    static func nonNegative<F: BinaryFloatingPoint>(_ value: F?, _ option: String, zero: String? = nil) throws {
        if let value, !(value >= 0 && value.isFinite) {
            throw ValidationError("\(option) must be 0\(zero.map { " (\($0))" } ?? "") or a finite positive number "
                + "(got \(value))")
        }
    }

    /// Inside a bounded interval, written as the message shows it (`[0, 1)`); `nan` is outside every interval.
    static func within<F: BinaryFloatingPoint>(_ value: F?, _ option: String, _ interval: String,
                                               _ contains: (F) -> Bool) throws {
        if let value, !contains(value) { throw ValidationError("\(option) must be in \(interval) (got \(value))") }
    }
}

/// Checks a name given on the command line (`--name`) against the store's one rule (``StoreName``) while parsing,
/// before any slow work: a usage error (exit code 64) saying what is wrong and what is allowed.
func validateName(_ name: String?, option: String = "--name") throws {
    if let name, let problem = StoreName.problem(with: name) {
        throw ValidationError("\(option): \(problem); \(StoreName.rule)")
    }
}

/// A stored name as printed to a terminal: names read from a store may hold control characters (written by other
/// software), which are shown escaped (``StoreName/escaped(_:)``) so no escape code reaches the terminal.
func shown(_ name: String) -> String { StoreName.escaped(name) }

/// A file a command is about to write (an export): its folder must exist, and an existing file is replaced only with
/// `--force`, so a typo neither fails obscurely nor overwrites a file. "-" (standard output) always passes.
/// - Parameter option: the option that named the file, for the messages.
func checkOutputFile(_ path: String, option: String, force: Bool) throws {
    guard path != "-" else { return }
    let folder = (path as NSString).deletingLastPathComponent
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
        if isFolder.boolValue { throw CLIError("\(option) \(path) is a folder; name a file inside it") }
        if !force { throw CLIError("\(option) \(path) exists; pass --force to replace it, or name another file") }
    } else if !folder.isEmpty,
              !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
        throw CLIError("\(option) \(path): the folder \(folder) does not exist; create it first "
            + "(mkdir -p \(folder)) or name a file in an existing folder")
    }
}

/// `--store PATH`: the store file every command that reads or writes vocabularies opens.
struct StoreOptions: ParsableArguments {
    static let defaultFileName = "quill.sqlite"

    @Option(name: .customLong("store"), help: ArgumentHelp(
        "The store, a SQLite file of vocabularies and models. (default: $QUILL_STORE, else "
            + "\(StoreOptions.defaultFileName) in the working directory)",
        valueName: "path"))
    var path: String?

    /// `--store`, else `$QUILL_STORE`, else `quill.sqlite` in the working directory.
    var resolvedPath: String {
        if let path { return path }
        if let env = ProcessInfo.processInfo.environment["QUILL_STORE"], !env.isEmpty { return env }
        return StoreOptions.defaultFileName
    }

    /// Opens the store in a mode: read-only for commands that only read (they never create or initialise a store),
    /// read-write for those that change an existing store, create for those that may start one.
    func open(_ mode: Store.OpenMode) throws -> Store {
        do {
            return try Store(path: resolvedPath, mode: mode)
        } catch StoreError.storeNotFound(let path) {
            throw CLIError("\(path): no such store; create one with `quill store init` (`quill vocab build` and "
                + "`quill vocab import` create it too), or pass another --store or QUILL_STORE")
        }
    }
}

/// A subcommand that works on the store: the store is opened before `run(store:)` so the body only calls the library.
protocol StoreBackedCommand: ParsableCommand {
    var store: StoreOptions { get }
    /// How the command opens the store: ``Store/OpenMode/readOnly`` (the default) for commands that only read,
    /// `readWrite` for those that change an existing store, `create` for those that may create it.
    static var openMode: Store.OpenMode { get }
    func run(store: Store) throws
}

extension StoreBackedCommand {
    static var openMode: Store.OpenMode { .readOnly }

    func run() throws {
        let opened = try Job.openStore(store, Self.openMode)
        try run(store: opened)
    }
}

/// The tokenizer options shared by the commands that tokenize. An option left out takes the default, or, where a
/// vocabulary is given, the vocabulary's setting.
struct TokenizerOptions: ParsableArguments {
    private static let defaults = TokenizerSettings()

    @Option(help: ArgumentHelp("Token level: word (ICU word boundaries), whitespace (runs of non-space, for "
            + "pre-tokenized corpora), character or char (grapheme clusters) or bpe (subwords learned inside the words "
            + "by byte-pair encoding; unseen characters fall back to bytes, never <unk>). "
            + "(default: \(defaults.level.rawValue))"))
    var level: TokenLevel?

    @Option(parsing: .number,
            help: ArgumentHelp("With --level bpe: how many merges to learn; the vocabulary then has about this many "
            + "subwords beside the characters and 256 byte tokens. (default: \(TokenizerSettings.defaultMerges))",
            valueName: "n"))
    var merges: Int?

    @Option(help: ArgumentHelp("Unicode normalization before tokenizing (nfkc also folds ligatures and "
            + "full-width forms). (default: \(defaults.normalization.rawValue))"))
    var normalization: Normalization?

    @Flag(help: "Fold case (full Unicode case folding) after normalization.")
    var caseFold = false

    @Option(help: ArgumentHelp("ICU locale for word boundaries, e.g. en, fr, ja; \"\" for ICU's root locale. "
            + "(default: \(defaults.locale))", valueName: "locale"))
    var locale: String?

    func validate() throws {
        if let merges {
            if merges < 1 { throw ValidationError("--merges must be at least 1 (got \(merges))") }
            if let level, level != .bpe {
                throw ValidationError("--merges is for --level bpe (got --level \(level.rawValue))")
            }
        }
    }

    /// The settings these options give, defaults filled in.
    var settings: TokenizerSettings {
        let d = TokenizerOptions.defaults
        return TokenizerSettings(level: level ?? d.level, normalization: normalization ?? d.normalization,
                                 caseFold: caseFold || d.caseFold, locale: locale ?? d.locale,
                                 merges: merges ?? d.merges)
    }

    /// The vocabulary's settings, after checking that no option given contradicts them.
    /// - Throws: ``usageFailure(_:)`` (exit code 64) naming each contradicting option.
    func settings(agreeingWith vocabulary: TokenizerSettings, name: String) throws -> TokenizerSettings {
        var conflicts: [String] = []
        if let level, level != vocabulary.level {
            conflicts.append("--level \(level.rawValue) (the vocabulary has \(vocabulary.level.rawValue))")
        }
        if let normalization, normalization != vocabulary.normalization {
            conflicts.append("--normalization \(normalization.rawValue) "
                + "(the vocabulary has \(vocabulary.normalization.rawValue))")
        }
        if let merges, vocabulary.level != .bpe || merges != vocabulary.merges {
            conflicts.append("--merges \(merges) (the vocabulary "
                + (vocabulary.level == .bpe ? "learned \(vocabulary.merges))" : "is not bpe)"))
        }
        if caseFold && !vocabulary.caseFold { conflicts.append("--case-fold (the vocabulary does not fold case)") }
        if let locale, locale != vocabulary.locale {
            conflicts.append("--locale '\(locale)' (the vocabulary has '\(vocabulary.locale)')")
        }
        guard conflicts.isEmpty else {
            throw usageFailure("vocabulary '\(name)' was built with other tokenizer settings: "
                + conflicts.joined(separator: ", ") + "; leave these options out to use the vocabulary's settings")
        }
        return vocabulary
    }
}

/// Output formats of the commands that report on the store.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    /// Aligned text for people.
    case text
    /// One JSON object per line, for scripts.
    case jsonl
}

extension TokenizerSettings {
    /// A short human-readable form: `word, nfc, case-folded, locale en`.
    var summary: String {
        [level == .bpe ? "bpe (\(merges) merges)" : level.rawValue, normalization.rawValue,
         caseFold ? "case-folded" : "cased",
         "locale " + (locale.isEmpty ? "root" : locale)].joined(separator: ", ")
    }
}

/// `--mix`: a stored n-gram model mixed into a recurrent model's next-word distribution, shared by `quill complete`,
/// `quill eval-autocomplete` and `quill predict`.
struct NGramMixOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A stored n-gram model of the same vocabulary to mix into the model's distribution "
            + "(train one with `quill ngram train`).", valueName: "name"))
    var mix: String?

    @Option(parsing: .number,
            help: ArgumentHelp("The n-gram model's share of the mixture, in (0, 1).", valueName: "weight"))
    var mixWeight = NGramMixture.defaultWeight

    func validate() throws {
        try NumberRange.within(mixWeight, "--mix-weight", "(0, 1)") { $0 > 0 && $0 < 1 }
    }

    /// The n-gram model to mix, by name and share.
    var named: (name: String, weight: Float)? { mix.map { ($0, mixWeight) } }

    /// The mixture for `model`, whose vocabulary the n-gram model must share; nil without `--mix`.
    func mixture(for model: String, vocabulary: Vocabulary, store: Store) throws -> NGramMixture? {
        try mix.map { NGramMixture(model: try store.ngramModel(named: $0, for: model, vocabulary: vocabulary),
                                   weight: mixWeight) }
    }

    /// How a report names the mixture: `", mixed with n-gram model NAME (share 0.35)"`, or nothing.
    var summary: String { mix.map { ", mixed with n-gram model \($0) (share \(mixWeight))" } ?? "" }

    /// The share as given: 0.35, not Float's 0.3499999940395355.
    var exactWeight: Double { Double("\(mixWeight)") ?? Double(mixWeight) }
}

/// How word suggestions are chosen, shared by `quill complete` and `quill eval-autocomplete` so that the measured
/// keystroke savings are those of the REPL.
struct SuggestionOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Show again a word passed over for a longer prefix of the same word (by default its "
            + "place goes to the next most likely word)."))
    var repeatSuggestions = false

    @Flag(help: ArgumentHelp("Do not mix the continuous cache of the text typed so far into the model's "
            + "distribution (word models; see docs/prediction.md)."))
    var noDocumentCache = false

    @OptionGroup
    var ngram: NGramMixOptions

    /// Sets the completer's choices; `model` is the name of the completer's model, for the n-gram model's check.
    func apply(to completer: Autocompleter, model: String, store: Store) throws {
        completer.repeatsPassedOver = repeatSuggestions
        completer.documentCache = noDocumentCache ? nil : .default
        completer.ngram = try ngram.mixture(for: model, vocabulary: completer.vocabulary, store: store)
    }
}

/// `--precision` of the commands that step the model one token at a time (`complete`, `predict`,
/// `eval-autocomplete`): the formats the ``Stepper`` runs, so `--help` lists only those.
enum SteppingPrecision: String, ExpressibleByArgument, CaseIterable {
    case float32, int8
    var precision: Stepper.Precision { Stepper.Precision(rawValue: rawValue)! }
}

/// `--precision` of `quill train`: the arithmetic of the products while training.
extension Precision: ExpressibleByArgument {}

/// `--precision` of `quill eval`: the formats the ``Scorer`` runs.
enum ScoringPrecision: String, ExpressibleByArgument, CaseIterable {
    case float32, bfloat16, int8
    var precision: Stepper.Precision { Stepper.Precision(rawValue: rawValue)! }
}

/// The decoding options of `generate`, `predict` and `complete`, declared once (the library's ``DecodingOptions``).
/// An option left out takes the command's default, which its help names.
struct DecodingArguments: ParsableArguments {
    @Option(parsing: .number,
            help: ArgumentHelp("0: the most likely continuation (greedy, or a beam search with --beam above 1); "
            + "above 0: sample from softmax(log p / T).", valueName: "T"))
    var temperature: Double?

    @Option(parsing: .number, help: ArgumentHelp("Sampling keeps only the k most likely tokens.", valueName: "k"))
    var topK: Int?

    @Option(parsing: .number,
            help: ArgumentHelp("Sampling keeps the most likely tokens until their probability reaches p, in (0, 1].",
                               valueName: "p"))
    var topP: Double?

    @Option(parsing: .number, help: ArgumentHelp("Beam width at temperature 0 (1: greedy).", valueName: "width"))
    var beam: Int?

    @Option(parsing: .number, help: "Seed of sampling: the same seed gives the same text.")
    var seed: UInt64?

    @Option(parsing: .number, help: ArgumentHelp("Tokens generated at most.", valueName: "n"))
    var maxTokens: Int?

    /// The options given, the others from `defaults`.
    func options(defaults: DecodingOptions) -> DecodingOptions {
        var o = defaults
        if let temperature { o.temperature = temperature }
        if let topK { o.topK = topK }
        if let topP { o.topP = topP }
        if let beam { o.beamWidth = beam }
        if let seed { o.seed = seed }
        if let maxTokens { o.maxTokens = maxTokens }
        return o
    }

    /// Checks the options given (against any command's defaults: every default is in range).
    func validate() throws {
        do {
            try options(defaults: DecodingOptions()).validate()
        } catch .invalid(let option, let reason) {
            throw ValidationError("\(DecodingOptionsError.flag(option)) \(reason)")
        }
    }
}
