import Foundation

/// The suggestions shown while one word is typed, a keystroke at a time.
///
/// A word shown and passed over (the user typed another character instead of taking it) is not shown again while
/// the same word is typed: its slot goes to the next most likely entry, while there is one. That is what a user who
/// reads the list expects, and it is worth 1.5 points of keystroke savings on PTB valid with a ptb-small model and 3
/// suggestions.
/// The ghost continuation of ``Autocompleter`` is unaffected: it always shows the most likely words.
///
///     var shown = WordSuggestions(k: 3)
///     for prefix in [" ", " t", " th"] { let list = shown.next(extending: prefix, in: distribution, index: index) }
public struct WordSuggestions: Sendable {
    /// Entries shown at once.
    public let k: Int
    /// Whether an entry passed over is shown again for a longer prefix of the same word.
    public let repeatsPassedOver: Bool
    private var passedOver: Set<Int32> = []

    public init(k: Int, repeatsPassedOver: Bool = false) {
        precondition(k >= 1, "at least one suggestion")
        self.k = k
        self.repeatsPassedOver = repeatsPassedOver
    }

    /// The `k` most likely entries extending `prefix`, best first, leaving out those shown by earlier calls (each
    /// for a shorter prefix of the same word) unless too few others extend it: then the best of those fill the list.
    /// Every entry returned counts as shown.
    public mutating func next(extending prefix: String, in distribution: UnsafeBufferPointer<Float>,
                              index: TokenPrefixIndex) -> [ScoredToken] {
        let candidates = index.ids(withPrefix: prefix)
        let excluded = passedOver
        guard !repeatsPassedOver, !passedOver.isEmpty else {
            let shown = TokenSelection.topK(distribution, k: k, among: candidates)
            if !repeatsPassedOver { passedOver.formUnion(shown.lazy.map(\.id)) }
            return shown
        }
        var shown = TokenSelection.topK(distribution, k: k, among: candidates.lazy.filter { !excluded.contains($0) })
        passedOver.formUnion(shown.lazy.map(\.id))
        if shown.count < k {
            // Too few new entries: the best of those passed over fill the list rather than leave it short.
            shown += TokenSelection.topK(distribution, k: k - shown.count,
                                         among: candidates.lazy.filter { excluded.contains($0) })
            shown.sort { $0.logProbability > $1.logProbability || ($0.logProbability == $1.logProbability && $0.id < $1.id) }
        }
        return shown
    }

    /// The suggestions for `prefix` when the word was typed a character at a time from `start` (its separator, e.g.
    /// `" "`): what ``next(extending:in:index:)`` shows after being called for each shorter prefix. Stateless, so a
    /// backspace shows what was shown before.
    public static func shown(k: Int, repeatsPassedOver: Bool, for prefix: String, from start: String,
                             in distribution: UnsafeBufferPointer<Float>, index: TokenPrefixIndex) -> [ScoredToken] {
        var list = WordSuggestions(k: k, repeatsPassedOver: repeatsPassedOver)
        guard !repeatsPassedOver, prefix.hasPrefix(start) else {
            return list.next(extending: prefix, in: distribution, index: index)
        }
        var typed = start
        var characters = prefix.dropFirst(start.count)[...]
        while true {
            let shown = list.next(extending: typed, in: distribution, index: index)
            guard let c = characters.popFirst() else { return shown }
            typed.append(c)
        }
    }
}
