import Foundation
import QuillDecode
import Testing

/// Suggestions while a word is typed: passed-over entries give their place to the next ones.
@Suite struct WordSuggestionsTests {
    static let entries: [(id: Int32, text: String)] = [
        (4, " a"), (5, " ab"), (6, " abc"), (7, " abd"), (8, " b"), (9, " ba"), (10, " abcd"), (11, "\nab"),
    ]
    /// Most likely first: " a" (4), " ab" (5), " b" (8), " abc" (6), " abd" (7), " abcd" (10), " ba" (9).
    static let distribution: [Float] = [-9, -9, -9, -9, -1, -2, -4, -5, -3, -7, -6, -2.5].map { $0 }

    @Test func passedOverEntriesAreNotShownAgain() {
        let index = TokenPrefixIndex(Self.entries)
        Self.distribution.withUnsafeBufferPointer { p in
            var list = WordSuggestions(k: 2)
            #expect(list.next(extending: " ", in: p, index: index).map(\.id) == [4, 5])
            #expect(list.next(extending: " a", in: p, index: index).map(\.id) == [6, 7])
            // One new entry left: the best passed-over one fills the list, best first.
            #expect(list.next(extending: " ab", in: p, index: index).map(\.id) == [5, 10])
            #expect(list.next(extending: " abc", in: p, index: index).map(\.id) == [6, 10])
            var plain = WordSuggestions(k: 2, repeatsPassedOver: true)
            #expect(plain.next(extending: " ", in: p, index: index).map(\.id) == [4, 5])
            #expect(plain.next(extending: " a", in: p, index: index).map(\.id) == [4, 5])
            #expect(plain.next(extending: " abc", in: p, index: index).map(\.id) == [6, 10])
        }
    }

    @Test func theStatelessFormEqualsTypingACharacterAtATime() {
        let index = TokenPrefixIndex(Self.entries)
        Self.distribution.withUnsafeBufferPointer { p in
            for k in 1...3 {
                for repeats in [false, true] {
                    var list = WordSuggestions(k: k, repeatsPassedOver: repeats)
                    for prefix in [" ", " a", " ab", " abc", " abcd"] {
                        let incremental = list.next(extending: prefix, in: p, index: index)
                        #expect(WordSuggestions.shown(k: k, repeatsPassedOver: repeats, for: prefix, from: " ",
                                                      in: p, index: index) == incremental, "k \(k) '\(prefix)'")
                    }
                }
            }
            // A prefix that does not start with `from` has no shorter prefixes to pass over.
            #expect(WordSuggestions.shown(k: 1, repeatsPassedOver: false, for: "\nab", from: " ", in: p, index: index)
                .map(\.id) == [11])
        }
    }
}
