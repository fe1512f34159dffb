import Foundation

/// Keystroke savings of word completion on a text, by Presage's definition and its simulator's rules:
/// `KSR = (1 − (ki + ks) / kn) × 100`, with `ki` the keys typed, `ks` the keys pressed to select a suggestion (one
/// each) and `kn` the keys of the text without prediction.
///
/// As in Presage's simulator (`presage_simulator` 0.9.1, `Simulator::simulate`), the whitespace after a word is one
/// key however it is spelled (`" "`, or `" \n "` at a PTB line end): `kn` is the words' characters and one key per
/// run of whitespace after a word.
/// Before each keystroke of a word the simulated user looks at the `k` suggestions (``WordSuggestions``: the most
/// likely vocabulary entries extending what is typed of the word); if the word is there it is selected with one key
/// and the whitespace after it comes free, as Presage inserts a space; otherwise the next character is typed. So a
/// word and its separator cost `typed + 1` keys, or all their keys when it is never offered. Also reports how often
/// the word was the first suggestion, or among the first 3, before any of it was typed (next-word accuracy).
///
/// Encodes as `suggestions`, `ki`, `ks`, `kn`, `words`, `top1`, `top3` (counts) and the derived `ksr`,
/// `top1Accuracy`, `top3Accuracy`.
public struct KeystrokeSavings: Sendable, Equatable, Codable {
    public var suggestions: Int
    /// Keys typed.
    public var ki = 0
    /// Keys pressed to select suggestions.
    public var ks = 0
    /// Keys without prediction: the words' characters and one per run of whitespace after a word.
    public var kn = 0
    public var words = 0
    /// Words that were the first suggestion / among the first 3 before any of their characters was typed.
    public var top1 = 0
    public var top3 = 0

    public var rate: Double { kn == 0 ? 0 : (1 - Double(ki + ks) / Double(kn)) * 100 }
    public var top1Accuracy: Double { words == 0 ? 0 : Double(top1) / Double(words) }
    public var top3Accuracy: Double { words == 0 ? 0 : Double(top3) / Double(words) }

    public init(suggestions: Int) { self.suggestions = suggestions }

    enum CodingKeys: String, CodingKey {
        case suggestions, ki, ks, kn, words, top1, top3, ksr, top1Accuracy, top3Accuracy
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (key, value) in [(CodingKeys.suggestions, suggestions), (.ki, ki), (.ks, ks), (.kn, kn), (.words, words),
                             (.top1, top1), (.top3, top3)] {
            try c.encode(value, forKey: key)
        }
        try c.encode(rate, forKey: .ksr)
        try c.encode(top1Accuracy, forKey: .top1Accuracy)
        try c.encode(top3Accuracy, forKey: .top3Accuracy)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        suggestions = try c.decode(Int.self, forKey: .suggestions)
        ki = try c.decode(Int.self, forKey: .ki)
        ks = try c.decode(Int.self, forKey: .ks)
        kn = try c.decode(Int.self, forKey: .kn)
        words = try c.decode(Int.self, forKey: .words)
        top1 = try c.decode(Int.self, forKey: .top1)
        top3 = try c.decode(Int.self, forKey: .top3)
    }

    /// A token of the text as the simulation types it.
    public struct Word: Sendable {
        /// The token fed to the model after the word.
        public var id: Int32
        /// The characters typed for it (the token without its leading separator).
        public var spelling: String
        /// The separator before it (`" "`, `"\n"`, or `""`), part of the prefix its suggestions extend.
        public var separator: String
        /// Whether it is a word to type; whitespace-only tokens (line breaks) are part of the separator between
        /// words, already counted, and only step the model.
        public var isWord: Bool

        public init(id: Int32, spelling: String, separator: String, isWord: Bool) {
            self.id = id
            self.spelling = spelling
            self.separator = separator
            self.isWord = isWord
        }
    }

    /// Simulates typing `words` with the model behind `stepper`, its state starting after `start`.
    /// - Parameters:
    ///   - index: the suggestible entries under their spellings, each with its separator (e.g. `" harbour"`).
    ///   - repeatsPassedOver: show again, for a longer prefix, a word passed over (see ``WordSuggestions``).
    ///   - cache: mix a ``ContinuousCache`` of the text typed so far into the model's distribution.
    ///   - ngram: mix an n-gram model into it first.
    ///   - progress: called after each token with the number done.
    public mutating func simulate(_ text: [Word], start: Int32, stepper: Stepper, index: TokenPrefixIndex,
                                  repeatsPassedOver: Bool = false, cache settings: ContinuousCache.Settings? = nil,
                                  ngram: NGramMixture? = nil, progress: ((Int) -> Void)? = nil) {
        var ngram = ngram
        var history: [Int32] = [start]
        let width = stepper.outputWidth
        var cache = settings.map { ContinuousCache(settings: $0, width: width) }
        var state = stepper.initialState()
        var logProbabilities = stepper.step(token: start, state: &state)
        // Whether the whitespace after the last word is still to count, and whether it comes free.
        var separatorAfterWord: (due: Bool, free: Bool) = (false, false)
        for (n, word) in text.enumerated() {
            if !word.isWord || !word.separator.isEmpty, separatorAfterWord.due {
                kn += 1
                if !separatorAfterWord.free { ki += 1 }
                separatorAfterWord.due = false
            }
            let hidden = state.hidden.suffix(width)
            if ngram != nil {
                logProbabilities.withUnsafeMutableBufferPointer { ngram!.mix(into: $0, after: history[...]) }
            }
            history.append(word.id)
            if history.count > 1024 { history.removeFirst(history.count - KneserNeyModel.maximumOrder) }
            if cache != nil {
                logProbabilities.withUnsafeMutableBufferPointer { distribution in
                    Array(hidden).withUnsafeBufferPointer { cache!.mix(into: distribution, hidden: $0) }
                }
                cache!.append(hidden: hidden, next: word.id)
            }
            if word.isWord {
                let selected = type(word, distribution: logProbabilities, index: index,
                                    repeatsPassedOver: repeatsPassedOver)
                separatorAfterWord = (true, selected)
            }
            logProbabilities = stepper.step(token: word.id, state: &state)
            progress?(n + 1)
        }
    }

    /// Types one word with suggestions drawn from `distribution`; returns whether it was selected.
    private mutating func type(_ word: Word, distribution logProbabilities: [Float], index: TokenPrefixIndex,
                               repeatsPassedOver: Bool) -> Bool {
        let characters = Array(word.spelling)
        kn += characters.count
        words += 1
        var list = WordSuggestions(k: suggestions, repeatsPassedOver: repeatsPassedOver)
        let taken: Int? = logProbabilities.withUnsafeBufferPointer { distribution in
            let best3 = TokenSelection.topK(distribution, k: 3, among: index.ids(withPrefix: word.separator))
            if best3.first?.id == word.id { top1 += 1 }
            if best3.contains(where: { $0.id == word.id }) { top3 += 1 }
            // Taking the word after typing all of it is no saving: the separator costs the same key.
            for typed in 0..<characters.count {
                let shown = list.next(extending: word.separator + String(characters[..<typed]), in: distribution,
                                      index: index)
                if shown.contains(where: { $0.id == word.id }) { return typed }
            }
            return nil
        }
        if let taken {
            ki += taken
            ks += 1
        } else {
            ki += characters.count
        }
        return taken != nil
    }
}
