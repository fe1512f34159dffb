import Foundation
import Quill
import QuillTestSupport
import Testing

/// The line convention on a PTB-like vocabulary, where every line ends with `" \n"` and there is no bare `"\n"`:
/// a line starts after `" \n"` and a scored line ends on it; and the results' JSON.
@Suite struct PredictorLineTests {
    static let ptb = " the cat sat on the mat \n a dog sat on the cat \n the dog ran \n"

    static func model(level: TokenLevel) throws -> (LanguageModel, Vocabulary) {
        let settings = TokenizerSettings(level: level)
        var builder = VocabularyBuilder(settings: settings)
        for token in try Tokenizer(settings).tokenize(Self.ptb) { builder.add(token) }
        let vocabulary = builder.build()
        let model = try LanguageModel(.init(kind: .lstm, vocabulary: vocabulary.count, embedding: 8, hidden: 8,
                                            layers: 1))
        var rng = RNG(seed: 11)
        model.parameters.initialize(.uniform(scale: 1), rng: &rng)
        return (model, vocabulary)
    }

    @Test(arguments: [TokenLevel.whitespace, .word])
    func aScoredLineStartsAfterAndEndsOnTheCorpusLineBreak(level: TokenLevel) throws {
        let (model, vocabulary) = try Self.model(level: level)
        let predictor = try Predictor(model: model, vocabulary: vocabulary, options: .init(task: .score))
        let lineBreak = vocabulary.id(" \n")
        #expect(lineBreak != Vocabulary.unknownID && vocabulary.lineStartID == lineBreak)
        // The line as read from the file (trailing space) and as typed (none) score the same, with no <unk>.
        let p = try predictor.predict([(1, " the dog sat on the mat "), (2, " the dog sat on the mat")])
        #expect(p[0] == p[1] && p[0].unknown == 0 && p[0].tokens == 7)
        var state = predictor.stepper.initialState()
        var distribution = predictor.stepper.step(token: lineBreak, state: &state)
        var expected = 0.0
        for token in [" the", " dog", " sat", " on", " the", " mat", " \n"] {
            let id = vocabulary.id(token)
            expected += Double(distribution[Int(id)])
            distribution = predictor.stepper.step(token: id, state: &state)
        }
        guard case let .score(logProbability, tokens) = p[0].outcome else { Issue.record("not a score"); return }
        #expect(tokens == 7 && abs(logProbability - expected) < 1e-4)
    }

    @Test func theAutocompleterStartsAfterTheLineBreakAndReadsContextLinesEndingOnIt() throws {
        let (model, vocabulary) = try Self.model(level: .whitespace)
        let completer = try Autocompleter(model: model, vocabulary: vocabulary)
        completer.documentCache = nil
        completer.k = 3
        try completer.appendContext(" the cat sat ")
        let s = try completer.suggestions(for: " the dog", continuation: false)
        var state = completer.stepper.initialState()
        var p: [Float] = []
        for token in [" \n", " the", " cat", " sat", " \n", " the"] {
            p = completer.stepper.step(token: vocabulary.id(token), state: &state)
        }
        for item in s.items {
            #expect(abs(item.probability - exp(Double(p[Int(vocabulary.id(item.token))]))) < 1e-6, "\(item.token)")
        }
        #expect(s.items.map(\.token) == [" dog"])
    }

    @Test func resultsEncodeWithOneKeySchemeAndDecodeBack() throws {
        let (model, vocabulary) = try Self.model(level: .whitespace)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for task in Predictor.Task.allCases {
            let predictor = try Predictor(model: model, vocabulary: vocabulary, options: .init(task: task))
            let prediction = try predictor.predict([(4, " the dog s")])[0]
            let numbered = Numbered(line: 4, value: prediction)
            let data = try encoder.encode(numbered)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["line"] as? Int == 4 && object["tokens"] as? Int == prediction.tokens)
            switch task {
            case .next, .complete:
                let items = try #require(object["suggestions"] as? [[String: Any]])
                #expect(items.allSatisfy { Set($0.keys) == ["token", "completion", "probability"] })
            case .generate: #expect(object["text"] is String && object["generated"] is Int)
            case .score: #expect(object["perplexity"] is Double && object["logProbability"] is Double)
            }
            #expect(try JSONDecoder().decode(Numbered<Predictor.Prediction>.self, from: data) == numbered, "\(task)")
        }
        let completer = try Autocompleter(model: model, vocabulary: vocabulary)
        let suggestions = try completer.suggestions(for: " the d")
        let data = try encoder.encode(suggestions)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["text", "prefix", "suggestions", "continuation"])
        #expect(try JSONDecoder().decode(Suggestions.self, from: data) == suggestions)
    }
}
