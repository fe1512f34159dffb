import Foundation

extension Store {
    /// Keystroke savings of a stored word-level model's suggestions on a text file (see ``KeystrokeSavings``).
    ///
    /// The file is tokenized with the model's vocabulary settings and typed from the start of a line (after the
    /// corpus's line break, ``TextEncoder/lineStart``); each token is a word to type after its leading
    /// separator, and line breaks and other whitespace-only tokens are typed. A token spelled `<unk>` in the text
    /// (as in PTB) is typed as `unknownSpelling` when given, e.g. `unk`, as Presage's peer script spells it.
    /// `repeatsPassedOver` and `cache` are the ``Autocompleter``'s settings of the same names, defaulting as there;
    /// `ngram` names a stored n-gram model of the same vocabulary to mix in (``NGramMixture``).
    /// - Throws: ``EvaluationError/characterModel(model:)`` for a character-level model; what loading the model or
    ///   reading the file throws.
    public func evaluateAutocomplete(model name: String, text path: String, suggestions: Int,
                                     unknownSpelling: String? = nil, precision: Stepper.Precision = .float32,
                                     repeatsPassedOver: Bool = false,
                                     cache: ContinuousCache.Settings? = .default,
                                     ngram: (name: String, weight: Float)? = nil,
                                     progress: ((Int, Int) -> Void)? = nil) throws -> KeystrokeSavings {
        let (model, vocabulary) = try loadStreamLanguageModel(named: name)
        guard vocabulary.settings.level != .character else {
            throw EvaluationError.characterModel(model: name)
        }
        let encoder = try TextEncoder(vocabulary)
        let tokens = try encoder.tokens(of: try TextReader(path: path).readAll())
        func spelling(_ word: Substring) -> String {
            if let unknownSpelling, word == "<unk>" { return unknownSpelling }
            return String(word)
        }
        let words = tokens.map { token -> KeystrokeSavings.Word in
            let id = encoder.id(of: token)
            guard !token.allSatisfy(\.isWhitespace) else {
                return KeystrokeSavings.Word(id: id, spelling: token, separator: "", isWord: false)
            }
            let word = token.drop { $0.isWhitespace }
            return KeystrokeSavings.Word(id: id, spelling: spelling(word),
                                         separator: String(token.prefix(token.count - word.count)), isWord: true)
        }
        let entries = (Int32(Vocabulary.specialTokens.count)..<Int32(vocabulary.count)).compactMap {
            id -> (id: Int32, text: String)? in
            let token = vocabulary[id]
            guard !token.contains(where: \.isNewline) else { return nil }
            let word = token.drop { $0.isWhitespace }
            return (id, String(token.prefix(token.count - word.count)) + spelling(word))
        }
        let mixture = try ngram.map {
            NGramMixture(model: try ngramModel(named: $0.name, for: name, vocabulary: vocabulary), weight: $0.weight)
        }
        var savings = KeystrokeSavings(suggestions: suggestions)
        savings.simulate(words, start: encoder.lineStart, stepper: try Stepper(model: model, precision: precision),
                         index: TokenPrefixIndex(entries), repeatsPassedOver: repeatsPassedOver, cache: cache,
                         ngram: mixture, progress: { progress?($0, words.count) })
        return savings
    }
}

/// Keystroke savings with what they were measured on and how (`quill eval-autocomplete --format json`).
///
/// Encodes as one flat object: `model`, `file`, `precision`, `repeatSuggestions`, `documentCache`, `mix` and
/// `mixWeight` (when an n-gram model is mixed in), `seconds`, and the ``KeystrokeSavings`` keys.
public struct AutocompleteEvaluation: Sendable, Equatable, Codable {
    public var model: String
    public var file: String
    public var precision: Stepper.Precision
    public var repeatSuggestions: Bool
    public var documentCache: Bool
    /// The n-gram model mixed in, and its share.
    public var mix: String?
    public var mixWeight: Double?
    /// Wall time of the simulation.
    public var seconds: Double
    public var savings: KeystrokeSavings

    public init(model: String, file: String, precision: Stepper.Precision, repeatSuggestions: Bool,
                documentCache: Bool, mix: String?, mixWeight: Double?, seconds: Double, savings: KeystrokeSavings) {
        self.model = model
        self.file = file
        self.precision = precision
        self.repeatSuggestions = repeatSuggestions
        self.documentCache = documentCache
        self.mix = mix
        self.mixWeight = mixWeight
        self.seconds = seconds
        self.savings = savings
    }

    enum CodingKeys: String, CodingKey {
        case model, file, precision, repeatSuggestions, documentCache, mix, mixWeight, seconds
    }

    public func encode(to encoder: any Encoder) throws {
        try savings.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(file, forKey: .file)
        try c.encode(precision, forKey: .precision)
        try c.encode(repeatSuggestions, forKey: .repeatSuggestions)
        try c.encode(documentCache, forKey: .documentCache)
        try c.encodeIfPresent(mix, forKey: .mix)
        try c.encodeIfPresent(mixWeight, forKey: .mixWeight)
        try c.encode(seconds, forKey: .seconds)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decode(String.self, forKey: .model), file: try c.decode(String.self, forKey: .file),
                  precision: try c.decode(Stepper.Precision.self, forKey: .precision), repeatSuggestions: try c.decode(Bool.self, forKey: .repeatSuggestions),
                  documentCache: try c.decode(Bool.self, forKey: .documentCache),
                  mix: try c.decodeIfPresent(String.self, forKey: .mix),
                  mixWeight: try c.decodeIfPresent(Double.self, forKey: .mixWeight),
                  seconds: try c.decode(Double.self, forKey: .seconds), savings: try KeystrokeSavings(from: decoder))
    }
}
