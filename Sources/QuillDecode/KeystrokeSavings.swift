import Foundation

/// Keystroke savings of word completion on a text, by Presage's definition and its simulator's rules:
/// `KSR = (1 − (ki + ks) / kn) × 100`, with `ki` the keys typed, `ks` the keys pressed to select a suggestion (one
/// each) and `kn` the keys of the text without prediction (its characters).
///
/// For each word the simulated user, before each keystroke, looks at the `k` suggestions (the most likely vocabulary
/// entries extending what is typed of the word); if the word is there it is selected with one key, and the separator
/// after it (a space or line break) comes free, as Presage inserts it; otherwise the next character is typed.
/// Separators not freed are typed. Also reports how often the word was the first suggestion, or among the first 3,
/// before any of it was typed (next-word accuracy).
public struct KeystrokeSavings: Sendable, Equatable {
    public var suggestions: Int
    /// Keys typed.
    public var ki = 0
    /// Keys pressed to select suggestions.
    public var ks = 0
    /// Keys without prediction: the characters of the text.
    public var kn = 0
    public var words = 0
    /// Words that were the first suggestion / among the first 3 before any of their characters was typed.
    public var top1 = 0
    public var top3 = 0

    public var rate: Double { kn == 0 ? 0 : (1 - Double(ki + ks) / Double(kn)) * 100 }
    public var top1Accuracy: Double { words == 0 ? 0 : Double(top1) / Double(words) }
    public var top3Accuracy: Double { words == 0 ? 0 : Double(top3) / Double(words) }

    public init(suggestions: Int) { self.suggestions = suggestions }

    /// A word of the text as the simulation types it: its token and its spelling.
    public struct Word: Sendable {
        /// The token fed to the model after the word.
        public var id: Int32
        /// The characters typed for it (the token without its leading separator).
        public var spelling: String
        /// The separator typed before it (`" "`, `"\n"`, or `""`; always `""` for a non-word).
        public var separator: String
        /// Whether it can be suggested at all (line breaks and specials cannot).
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
    ///   - progress: called after each word with the number done.
    public mutating func simulate(_ text: [Word], start: Int32, stepper: Stepper, index: TokenPrefixIndex,
                                  progress: ((Int) -> Void)? = nil) {
        var state = stepper.initialState()
        var logProbabilities = stepper.step(token: start, state: &state)
        var separatorIsFree = false
        for (n, word) in text.enumerated() {
            kn += word.separator.count + word.spelling.count
            // The separator before the word (or a non-word's first whitespace) is free after a selected word.
            let typedBefore = word.isWord ? word.separator : String(word.spelling.prefix(1))
            if !(separatorIsFree && typedBefore.first?.isWhitespace == true) { ki += typedBefore.count }
            separatorIsFree = false
            if word.isWord {
                words += 1
                let characters = Array(word.spelling)
                var selected = false
                logProbabilities.withUnsafeBufferPointer { distribution in
                    for typed in 0...characters.count {
                        let prefix = word.separator + String(characters[..<typed])
                        let shown = TokenSelection.topK(distribution, k: suggestions,
                                                        among: index.ids(withPrefix: prefix))
                        let rank = shown.firstIndex { $0.id == word.id }
                        if typed == 0 {
                            let best3 = TokenSelection.topK(distribution, k: 3, among: index.ids(withPrefix: prefix))
                            if best3.first?.id == word.id { top1 += 1 }
                            if best3.contains(where: { $0.id == word.id }) { top3 += 1 }
                        }
                        if rank != nil, typed < characters.count {
                            ks += 1
                            selected = true
                            return
                        }
                        if typed < characters.count { ki += 1 }
                    }
                }
                separatorIsFree = selected
            } else {
                ki += max(0, word.spelling.count - 1)
            }
            logProbabilities = stepper.step(token: word.id, state: &state)
            progress?(n + 1)
        }
    }
}
