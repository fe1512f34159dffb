import Foundation
import Quill
import QuillTestSupport
import Testing

/// Suggestions while typing: prefix completion from the cached distribution, incremental stepping, continuations.
@Suite struct AutocompleterTests {
    static let text = """
        The boats came in at dusk and the lanterns were lit on the water.
        Ada walked down to the harbour with her aunt.
        The harbour master waved to the boats.

        """

    static func autocompleter(level: TokenLevel = .word, seed: UInt64 = 3) throws -> Autocompleter {
        var builder = VocabularyBuilder(settings: TokenizerSettings(level: level))
        for token in try Tokenizer(TokenizerSettings(level: level)).tokenize(Self.text) { builder.add(token) }
        let vocabulary = builder.build()
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: vocabulary.count, embedding: 8, hidden: 8,
                                            layers: 1))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 1), rng: &rng)
        return try Autocompleter(model: model, vocabulary: vocabulary)
    }

    @Test func aPartialWordIsCompletedFromTheVocabulary() throws {
        let completer = try Self.autocompleter()
        completer.repeatsPassedOver = true  // plain top-k for each prefix
        let s = try completer.suggestions(for: "Ada walked down to the har")
        #expect(s.prefix == " har")
        #expect(s.items.map(\.token) == [" harbour"] && s.items[0].completion == "bour")
        #expect(s.continuation.hasPrefix("bour"))
        let space = try completer.suggestions(for: "Ada walked down to the ")
        #expect(space.prefix == " " && space.items.count == completer.k)
        #expect(space.items.allSatisfy { $0.token.hasPrefix(" ") && $0.completion == String($0.token.dropFirst()) })
        #expect(zip(space.items, space.items.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        let boundary = try completer.suggestions(for: "Ada walked down to the harbour")
        #expect(boundary.prefix == " harbour")  // inside a word until a space or punctuation follows
        let afterPunctuation = try completer.suggestions(for: "The boats came in.")
        #expect(afterPunctuation.prefix == "" && !afterPunctuation.items.isEmpty)
        #expect(try completer.suggestions(for: "The xyz").items.isEmpty)  // nothing extends an unknown prefix
    }

    @Test func probabilitiesAreTheModelsAfterTheText() throws {
        let completer = try Self.autocompleter()
        completer.documentCache = nil  // the model's own distribution (the cache is tested below)
        let s = try completer.suggestions(for: "The boats came ")
        // The same distribution, stepped by hand: start of line, then the text's tokens.
        let vocabulary = completer.vocabulary
        var state = completer.stepper.initialState()
        var p = completer.stepper.step(token: vocabulary.id("\n"), state: &state)
        for token in ["The", " boats", " came"] { p = completer.stepper.step(token: vocabulary.id(token), state: &state) }
        for item in s.items {
            #expect(abs(item.probability - exp(Double(p[Int(vocabulary.id(item.token))]))) < 1e-6)
        }
        let best = (4..<vocabulary.count).filter { vocabulary[Int32($0)].hasPrefix(" ") }.max { p[$0] < p[$1] }!
        #expect(s.items[0].token == vocabulary[Int32(best)])
    }

    @Test func keystrokesInsideAWordStepNothing() throws {
        let completer = try Self.autocompleter()
        completer.repeatsPassedOver = true
        _ = try completer.suggestions(for: "The harbour master waved to the b")
        let (steps, searches) = (completer.textSteps, completer.continuationSearches)
        let first = try completer.suggestions(for: "The harbour master waved to the bo")
        _ = try completer.suggestions(for: "The harbour master waved to the boa")
        #expect(completer.textSteps == steps, "typing inside a word must not step the model")
        #expect(first.items.first?.token == " boats")
        #expect(completer.continuationSearches <= searches + 1)
        _ = try completer.suggestions(for: "The harbour master waved to the boat")
        #expect(completer.continuationSearches <= searches + 1, "the same best word reuses its continuation")
        // A new word steps one token: the word just finished.
        _ = try completer.suggestions(for: "The harbour master waved to the boats ")
        #expect(completer.textSteps == steps + 1)
        // Without the continuation nothing but new words of the text is stepped; it comes (and is cached) later.
        let searches2 = completer.continuationSearches
        let quick = try completer.suggestions(for: "The harbour master waved to the boats c", continuation: false)
        #expect(completer.continuationSearches == searches2 && completer.textSteps == steps + 1)
        #expect(quick.continuation.isEmpty && !quick.items.isEmpty)
        let full = try completer.suggestions(for: "The harbour master waved to the boats c")
        #expect(full.items == quick.items && full.continuation.hasPrefix(quick.items[0].completion))
        #expect(try completer.suggestions(for: "The harbour master waved to the boats c", continuation: false)
            == full, "a searched continuation is cached")
    }

    /// A text longer than ``Autocompleter/maxContext`` tokens is read to its last tokens: the states cached stay
    /// under the cap however long the text, typed word by word or given at once, and the suggestions are those of
    /// the last tokens alone.
    @Test func aLongTextKeepsAtMostMaxContextStates() throws {
        let completer = try Self.autocompleter()
        completer.maxContext = 16
        let words = String(repeating: "The boats came in at dusk and the lanterns were lit on the water ", count: 40)
        var typed = ""
        for word in words.split(separator: " ") {
            typed += word + " "
            _ = try completer.suggestions(for: typed, continuation: false)
            #expect(completer.cachedSteps <= 17, "\(completer.cachedSteps) states cached")
        }
        let long = try completer.suggestions(for: words + "Ada walked to the har")
        #expect(completer.cachedSteps <= 17)
        #expect(long.note?.contains("longer than 16 tokens") == true)
        // The same as the text's last 16 tokens alone (tokens concatenate to the text).
        let tokens = try Tokenizer(completer.vocabulary.settings).tokenize(words + "Ada walked to the")
        let fresh = try Self.autocompleter()
        fresh.maxContext = 16
        let tail = try fresh.suggestions(for: tokens.suffix(16).joined() + " har")
        #expect(long.items == tail.items && long.continuation == tail.continuation)
    }

    /// Each prefix of a word shows the most likely entries extending it that no shorter prefix showed (those shown
    /// before only fill a list that would be short). The ghost text still starts with the most likely entry.
    @Test func wordsPassedOverAreNotShownAgain() throws {
        let completer = try Self.autocompleter()
        completer.k = 2
        let plain = try Self.autocompleter()
        plain.k = 2
        plain.repeatsPassedOver = true
        var earlier: Set<String> = []
        for typed in ["", "h", "ha", "har", "harb"] {
            let text = "Ada walked down to the " + typed
            let s = try completer.suggestions(for: text)
            plain.k = 1000
            let all = try plain.suggestions(for: text).items  // every entry extending the prefix, best first
            let new = s.items.filter { !earlier.contains($0.token) }
            let unseen = all.filter { !earlier.contains($0.token) }
            // The most likely entries not shown before, then (when too few) the best of those shown before.
            #expect(new.map(\.token) == unseen.prefix(completer.k).map(\.token), "'\(text)'")
            #expect(s.items.count == min(completer.k, all.count), "'\(text)': the list is full while entries remain")
            #expect(zip(s.items, s.items.dropFirst()).allSatisfy { $0.probability >= $1.probability })
            #expect(s.continuation.hasPrefix(all.first?.completion ?? ""), "the ghost starts with the best entry")
            earlier.formUnion(s.items.map(\.token))
        }
        // Stateless: going back shows what it showed before.
        let fresh = try Self.autocompleter()
        fresh.k = 2
        #expect(try completer.suggestions(for: "Ada walked down to the h")
            == fresh.suggestions(for: "Ada walked down to the h"))
    }

    /// The continuous cache raises words of the text typed so far, and leaves a distribution.
    @Test func theDocumentCacheFavoursWordsOfTheText() throws {
        let text = "The lanterns were lit on the water and the lanterns were lit on the "
        let plain = try Self.autocompleter()
        plain.documentCache = nil
        plain.k = 1000
        let cached = try Self.autocompleter()
        cached.k = 1000
        let before = try plain.suggestions(for: text).items
        let after = try cached.suggestions(for: text).items
        func p(_ items: [Suggestion], _ token: String) -> Double { items.first { $0.token == token }!.probability }
        for word in [" lanterns", " water", " lit"] { #expect(p(after, word) > p(before, word), "\(word)") }
        #expect(p(after, " harbour") < p(before, " harbour"), "a word not in the text only loses the cache's share")
        #expect(abs(p(after, " harbour") / p(before, " harbour") - Double(1 - ContinuousCache.Settings.default.weight))
            < 1e-4)
    }

    /// The cached distribution is the model's mixed with a cache of the context's and the text's states, each
    /// with the token that followed it, as stepped by hand.
    @Test func theDocumentCacheHoldsTheContextAndTheText() throws {
        let completer = try Self.autocompleter()
        completer.k = 1000
        try completer.appendContext("The boats came in.")
        let s = try completer.suggestions(for: "Ada walked to the ")
        let vocabulary = completer.vocabulary
        let width = completer.stepper.outputWidth
        var cache = ContinuousCache(width: width)
        var state = completer.stepper.initialState()
        var p = completer.stepper.step(token: vocabulary.lineStartID, state: &state)
        for token in ["The", " boats", " came", " in", ".", "\n", "Ada", " walked", " to", " the"] {
            let id = vocabulary.id(token)
            cache.append(hidden: state.hidden.suffix(width), next: id)
            p = completer.stepper.step(token: id, state: &state)
        }
        p.withUnsafeMutableBufferPointer { p in
            Array(state.hidden.suffix(width)).withUnsafeBufferPointer { cache.mix(into: p, hidden: $0) }
        }
        for item in s.items {
            #expect(abs(item.probability - exp(Double(p[Int(vocabulary.id(item.token))]))) < 1e-6, "\(item.token)")
        }
        // Editing the text, or clearing the context, gives what a fresh autocompleter gives.
        _ = try completer.suggestions(for: "Ada ran")
        #expect(try completer.suggestions(for: "Ada walked to the ") == s)
        completer.clearContext()
        let fresh = try Self.autocompleter()
        fresh.k = 1000
        #expect(try completer.suggestions(for: "Ada walked to the ") == fresh.suggestions(for: "Ada walked to the "))
    }

    @Test func incrementalSuggestionsEqualFreshOnes() throws {
        let completer = try Self.autocompleter()
        let texts = ["The boats came in at dusk", "The boats", "Ada walked", "Ada walked down to the water.", "",
                     "The harbour master waved", "Ada walked down to the water ", "Ada walked down to the harbour "]
        for text in texts { _ = try completer.suggestions(for: text) }
        for text in texts.reversed() {
            let fresh = try Self.autocompleter().suggestions(for: text)
            #expect(try completer.suggestions(for: text) == fresh, "'\(text)'")
        }
    }

    @Test func continuationsStopAtTheEndOfASentenceAndMostlyUnknownTextIsNoted() throws {
        let completer = try Self.autocompleter()
        completer.decoding.maxTokens = 40
        let s = try completer.suggestions(for: "Ada walked down ")
        #expect(!s.continuation.contains("\n"))
        let sentenceEnds = s.continuation.filter { ".!?".contains($0) }.count
        #expect(sentenceEnds <= 1 && (sentenceEnds == 0 || s.continuation.last == "."))
        #expect(try completer.suggestions(for: "Zorbl quux flimflam ").note?.contains("unknown") == true)
        #expect(s.note == nil)
        completer.decoding.temperature = 0.9
        let sampled = try completer.suggestions(for: "Ada walked down ")
        #expect(try completer.suggestions(for: "Ada walked down ") == sampled, "sampling is seeded")
    }

    @Test func characterModelsCompleteByStepping() throws {
        let completer = try Self.autocompleter(level: .character)
        let s = try completer.suggestions(for: "The harb")
        #expect(s.prefix == "harb" && !s.items.isEmpty)
        #expect(s.items.allSatisfy { $0.token == "harb" + $0.completion })
        #expect(s.items.allSatisfy { !$0.completion.contains(" ") })
    }
}
