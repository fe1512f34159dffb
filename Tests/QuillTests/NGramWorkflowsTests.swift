import Foundation
import Quill
import QuillTestSupport
import Testing

/// Stored n-gram models, and an n-gram model mixed into the autocompleter's distribution.
@Suite struct NGramWorkflowsTests {
    @Test func storedModelsRoundTripAndScoreAsComputedByHand() throws {
        try withTemporaryDirectory { directory in
            let corpus = directory.appendingPathComponent("corpus.txt")
            try AutocompleterTests.text.write(to: corpus, atomically: true, encoding: .utf8)
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path)
            _ = try store.buildVocabulary(corpus: corpus.path, name: "v")
            for (order, smoothing) in [(5, KneserNeyModel.Smoothing.modified), (3, .plain)] {
                let (trained, tokens) = try store.trainNGramModel(corpus: corpus.path, vocabulary: "v", order: order,
                                                                  model: "g", smoothing: smoothing, replace: true)
                let (loaded, vocabulary) = try store.loadNGramModel(named: "g")
                #expect(loaded.order == order && loaded.smoothing == smoothing
                    && loaded.boundary == vocabulary.lineBreakID)
                for n in 1...order { #expect(loaded.grams(order: n).elementsEqual(trained.grams(order: n)) { $0 == $1 }) }
                // Each line with a word is a sentence: its words and </s> are scored, the first word after <s>.
                let ids = try Tokenizer(vocabulary.settings).tokenize(AutocompleterTests.text).map { vocabulary.id($0) }
                let sentences = NGramSentences(vocabulary: vocabulary).sentences(ids)
                #expect(sentences.count == tokens)
                var (expected, history) = (0.0, [vocabulary.lineBreakID])
                var (p, q) = ([Float](), [Float]())
                for id in sentences {
                    loaded.probabilities(after: history[...], into: &p)
                    trained.probabilities(after: history[...], into: &q)
                    #expect(p == q, "the stored model's probabilities are the trained model's, bit for bit")
                    expected -= Double(log(loaded.probability(of: id, after: history[...])))
                    history = id == vocabulary.lineBreakID ? [id] : history + [id]
                }
                let (scored, loss) = try store.evaluateNGramModel(named: "g", text: corpus.path)
                #expect(scored == sentences.count && abs(loss - expected / Double(sentences.count)) < 1e-9)
            }
            #expect(throws: NGramTrainingError.orderOutOfRange(order: 9, maximum: 8)) {
                try store.trainNGramModel(corpus: corpus.path, vocabulary: "v", order: 9, model: "h")
            }
        }
    }

    /// A model stored before sentences (one stream, plain KN, no `smoothing` in its record) loads and scores as then.
    @Test func streamModelsStillLoadAndScoreEveryToken() throws {
        try withTemporaryDirectory { directory in
            let corpus = directory.appendingPathComponent("corpus.txt")
            try AutocompleterTests.text.write(to: corpus, atomically: true, encoding: .utf8)
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path)
            let vocabulary = try store.buildVocabulary(corpus: corpus.path, name: "v").vocabulary
            let ids = try Tokenizer(vocabulary.settings).tokenize(AutocompleterTests.text).map { vocabulary.id($0) }
            let stream = KneserNeyModel(ids: ids, vocabularySize: vocabulary.count, order: 4)
            try store.saveNGramModel(stream, name: "old", vocabulary: "v", tokens: ids.count)
            let json = try store.model(named: "old").hyperparametersJSON
            #expect(!json.contains("smoothing") && !json.contains("sentences"))
            let (loaded, _) = try store.loadNGramModel(named: "old")
            #expect(loaded.boundary == nil && loaded.smoothing == .plain && loaded.order == 4)
            let history = [vocabulary.lineStartID] + ids
            var (p, q) = ([Float](), [Float]())
            for end in [1, 2, 5, history.count] {
                stream.probabilities(after: history[..<end], into: &p)
                loaded.probabilities(after: history[..<end], into: &q)
                #expect(p == q)
            }
            let expected = (1..<history.count).reduce(0.0) {
                $0 - Double(log(loaded.probability(of: history[$1], after: history[..<$1])))
            } / Double(ids.count)
            let (scored, loss) = try store.evaluateNGramModel(named: "old", text: corpus.path)
            #expect(scored == ids.count && abs(loss - expected) < 1e-9, "\(loss) \(expected)")
        }
    }

    /// One check of a stored model's family and vocabulary, for either family.
    @Test func storedModelsAreCheckedForFamilyAndVocabulary() throws {
        try withTemporaryDirectory { directory in
            let corpus = directory.appendingPathComponent("corpus.txt")
            try AutocompleterTests.text.write(to: corpus, atomically: true, encoding: .utf8)
            let other = directory.appendingPathComponent("other.txt")
            try "zebras graze\nzebras run\n".write(to: other, atomically: true, encoding: .utf8)
            let store = try Store(path: directory.appendingPathComponent("s.sqlite").path)
            let vocabulary = try store.buildVocabulary(corpus: corpus.path, name: "v").vocabulary
            _ = try store.buildVocabulary(corpus: other.path, name: "w")
            try store.trainNGramModel(corpus: corpus.path, vocabulary: "v", order: 2, model: "g")
            try store.trainNGramModel(corpus: other.path, vocabulary: "w", order: 2, model: "z")
            try store.saveLanguageModel(try LanguageModelWorkflowTests.randomModel(.lstm, vocabulary: vocabulary.count),
                                        name: "m", vocabulary: "v")
            #expect(ModelFamily(kind: "gru-lm") == .recurrentLanguageModel && ModelFamily(kind: "kn-ngram") == .ngram)
            #expect(ModelFamily(kind: "seq2seq") == .translation && ModelFamily(kind: "transformer") == nil)

            #expect(throws: StoredModelError.wrongFamily(model: "g", kind: "kn-ngram", found: .ngram,
                                                         expected: .recurrentLanguageModel)) {
                try store.loadLanguageModel(named: "g")
            }
            #expect(throws: StoredModelError.wrongFamily(model: "m", kind: "lstm-lm", found: .recurrentLanguageModel,
                                                         expected: .ngram)) {
                try store.loadNGramModel(named: "m")
            }
            let w = try store.vocabulary(named: "w")
            #expect(throws: StoredModelError.vocabularyMismatch(model: "z", modelVocabulary: "w",
                                                                expected: w.fingerprint, given: "v",
                                                                found: vocabulary.fingerprint)) {
                try store.ngramModel(named: "z", for: "m", vocabulary: vocabulary)
            }
            #expect(try store.ngramModel(named: "g", for: "m", vocabulary: vocabulary).order == 2)
            let message = "\(StoredModelError.wrongFamily(model: "g", kind: "kn-ngram", found: .ngram, expected: .recurrentLanguageModel))"
            #expect(message == "model 'g' is an n-gram model (kind kn-ngram), not a recurrent language model")
        }
    }

    @Test func theAutocompleterMixesTheNGramModelBeforeTheCache() throws {
        let completer = try AutocompleterTests.autocompleter()
        completer.documentCache = nil
        completer.k = 1000
        let vocabulary = completer.vocabulary
        let ids = try Tokenizer(vocabulary.settings).tokenize(AutocompleterTests.text).map { vocabulary.id($0) }
        let ngram = KneserNeyModel(ids: ids, vocabularySize: vocabulary.count, order: 3)
        let plain = try completer.suggestions(for: "The harbour master waved to the ").items
        completer.ngram = NGramMixture(model: ngram, weight: 0.4)
        let mixed = try completer.suggestions(for: "The harbour master waved to the ").items
        let history = [vocabulary.lineStartID] + ["The", " harbour", " master", " waved", " to", " the"].map {
            vocabulary.id($0)
        }
        for item in mixed {
            let model = plain.first { $0.token == item.token }!.probability
            let expected = 0.6 * model + 0.4 * Double(ngram.probability(of: vocabulary.id(item.token),
                                                                        after: history[...]))
            #expect(abs(item.probability - expected) < 1e-5, "\(item.token)")
        }
        func p(_ items: [Suggestion], _ token: String) -> Double { items.first { $0.token == token }!.probability }
        #expect(p(mixed, " boats") > p(plain, " boats"), "the 3-gram knows what follows 'to the' in its text")
    }

    /// `quill predict --mix`: a line's suggestions are the autocompleter's for the same line with the same mixture.
    @Test func predictionsMixTheNGramModelAsTheAutocompleterDoes() throws {
        let completer = try AutocompleterTests.autocompleter()
        let vocabulary = completer.vocabulary
        let ids = try Tokenizer(vocabulary.settings).tokenize(AutocompleterTests.text).map { vocabulary.id($0) }
        let mixture = NGramMixture(model: KneserNeyModel(ids: ids, vocabularySize: vocabulary.count, order: 4),
                                   weight: 0.3)
        completer.repeatsPassedOver = true
        completer.documentCache = nil
        completer.ngram = mixture
        var options = Predictor.Options(task: .complete)
        options.suggestions = completer.k
        let predictor = try Predictor(weights: completer.stepper.weights, vocabulary: vocabulary, options: options,
                                      ngram: mixture)
        let lines = ["The harbour master waved to the b", "Ada walked down to the ", "The boats came in at"]
        let predictions = try predictor.predict(lines.enumerated().map { ($0.offset + 1, $0.element) })
        for (line, prediction) in zip(lines, predictions) {
            let s = try completer.suggestions(for: line, continuation: false)
            guard case .suggestions(let prefix, let items) = prediction.outcome else {
                Issue.record("no suggestions for '\(line)'")
                continue
            }
            #expect(prefix == s.prefix && items.map(\.token) == s.items.map(\.token), "'\(line)'")
            for (a, b) in zip(items, s.items) { #expect(abs(a.probability - b.probability) < 1e-5) }
        }
    }
}
