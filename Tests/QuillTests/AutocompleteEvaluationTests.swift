import Foundation
import Quill
import QuillTestSupport
import Testing

/// Keystroke savings by Presage's rules, on cases whose counts are known by hand.
@Suite struct AutocompleteEvaluationTests {
    /// A store with a random word model over the vocabulary of "the cat sat on the mat".
    static func store(in directory: URL) throws -> Store {
        let corpus = directory.appendingPathComponent("corpus.txt")
        try "the cat sat on the mat\nthe cat ate the rat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let store = try Store(path: directory.appendingPathComponent("s.sqlite").path)
        let (vocabulary, _) = try store.buildVocabulary(corpus: corpus.path, name: "v")
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: vocabulary.count, embedding: 4, hidden: 4,
                                            layers: 1))
        var rng = RNG(seed: 1)
        model.parameters.initialize(.uniform(scale: 0.5), rng: &rng)
        try store.saveLanguageModel(model, name: "m", vocabulary: "v")
        return store
    }

    @Test func everyKnownWordIsOneKeyWhenAllAreShown() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            let text = directory.appendingPathComponent("t.txt")
            try "the cat sat\n".write(to: text, atomically: true, encoding: .utf8)
            // Every entry shown: each word is taken at once (ks 3); the spaces and the line break come free.
            let s = try store.evaluateAutocomplete(model: "m", text: text.path, suggestions: 1000)
            #expect((s.ki, s.ks, s.kn, s.words) == (0, 3, 12, 3))
            #expect(s.rate == 75)
        }
    }

    @Test func anUnknownWordIsTypedInFullWithTheSeparatorAfterIt() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            let text = directory.appendingPathComponent("t.txt")
            try "the dog\n".write(to: text, atomically: true, encoding: .utf8)
            // "the" taken (1), its space free; d, o, g typed; the line break typed.
            let s = try store.evaluateAutocomplete(model: "m", text: text.path, suggestions: 1000)
            #expect((s.ki, s.ks, s.kn) == (4, 1, 8))
            #expect(s.rate == 37.5)
        }
    }

    /// As in Presage's simulator, the whitespace between two words is one key however it is spelled (PTB lines
    /// start and end with a space).
    @Test func theWhitespaceBetweenWordsIsOneKey() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            let text = directory.appendingPathComponent("t.txt")
            try " the cat \n the cat \n".write(to: text, atomically: true, encoding: .utf8)
            let s = try store.evaluateAutocomplete(model: "m", text: text.path, suggestions: 1000)
            #expect((s.ki, s.ks, s.kn, s.words) == (0, 4, 16, 4))
            let typed = try store.evaluateAutocomplete(model: "m", text: text.path, suggestions: 1)
            #expect(typed.kn == 16 && typed.ki + typed.ks <= 16)
        }
    }

    @Test func withOneSuggestionAWordCostsTheKeysTypedBeforeItShowsPlusOne() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            let text = directory.appendingPathComponent("t.txt")
            try "the mat\n".write(to: text, atomically: true, encoding: .utf8)
            let s = try store.evaluateAutocomplete(model: "m", text: text.path, suggestions: 1)
            // Bounds that hold whatever the random model ranks first: each word costs at least 1 key and at most
            // its letters plus the separator.
            #expect(s.kn == 8 && s.ki + s.ks >= 2 && s.ki + s.ks <= 8)
            #expect(s.words == 2)
            let all = try store.evaluateAutocomplete(model: "m", text: text.path, suggestions: 1000)
            #expect(all.ki + all.ks <= s.ki + s.ks, "more suggestions never cost more keys")
        }
    }
}
