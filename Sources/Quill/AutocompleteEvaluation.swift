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
    /// - Throws: ``LanguageModelError/invalidOption(_:)`` for a character-level model; what loading the model or
    ///   reading the file throws.
    public func evaluateAutocomplete(model name: String, text path: String, suggestions: Int,
                                     unknownSpelling: String? = nil, precision: Stepper.Precision = .float32,
                                     repeatsPassedOver: Bool = false,
                                     cache: ContinuousCache.Settings? = .default,
                                     ngram: (name: String, weight: Float)? = nil,
                                     progress: ((Int, Int) -> Void)? = nil) throws -> KeystrokeSavings {
        let (model, vocabulary) = try loadLanguageModel(named: name)
        guard vocabulary.settings.level != .character else {
            throw LanguageModelError.invalidOption("model '\(name)' is a character model; keystroke savings are "
                + "measured for word-level models (their suggestions are whole words)")
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
