import Foundation
import Quill
import QuillTestSupport
import Testing

/// Batched predictions equal one-line-at-a-time ones and the model's own probabilities.
@Suite struct PredictorTests {
    static let lines = ["The boats came in at dusk", "Ada walked down to the har", "The", "The harbour master waved to",
                        "Ada Ada Ada zzz unknown words"]

    static func predictor(_ task: Predictor.Task, configure: (inout Predictor.Options) -> Void = { _ in }) throws
        -> Predictor {
        let completer = try AutocompleterTests.autocompleter()
        var options = Predictor.Options(task: task)
        configure(&options)
        return try Predictor(weights: completer.stepper.weights, vocabulary: completer.vocabulary, options: options)
    }

    static var numbered: [(number: Int, text: String)] { lines.enumerated().map { ($0.offset + 1, $0.element) } }

    @Test(arguments: Predictor.Task.allCases)
    func aBatchEqualsLinesOneByOne(task: Predictor.Task) throws {
        let predictor = try Self.predictor(task) { $0.decoding.temperature = task == .generate ? 0.7 : 0 }
        let together = try predictor.predict(Self.numbered)
        let alone = try Self.numbered.flatMap { try predictor.predict([$0]) }
        #expect(together.count == Self.lines.count)
        for (a, b) in zip(together, alone) {
            switch (a.outcome, b.outcome) {
            case let (.score(x, n), .score(y, m)): #expect(abs(x - y) < 1e-4 && n == m)
            case let (.suggestions(p, xs), .suggestions(q, ys)):
                #expect(p == q && xs.map(\.token) == ys.map(\.token))
                #expect(zip(xs, ys).allSatisfy { abs($0.probability - $1.probability) < 1e-6 })
            case let (.generated(x, n, _), .generated(y, m, _)): #expect(x == y && n == m)
            default: Issue.record("different outcomes \(a) \(b)")
            }
        }
    }

    @Test func scoresAreTheSumOfTheTokensLogProbabilitiesAndTheLineEnd() throws {
        let predictor = try Self.predictor(.score)
        let vocabulary = predictor.vocabulary
        let stepper = predictor.stepper
        for (number, line) in Self.numbered {
            guard case let .score(logProbability, tokens) = try predictor.predict([(number, line)])[0].outcome else {
                Issue.record("not a score")
                continue
            }
            var state = stepper.initialState()
            var p = stepper.step(token: vocabulary.id("\n"), state: &state)
            var expected = 0.0
            let ids = try Tokenizer(vocabulary.settings).ids(of: line, in: vocabulary)
            for id in ids {
                expected += Double(p[Int(id)])
                p = stepper.step(token: id, state: &state)
            }
            expected += Double(p[Int(vocabulary.id("\n"))])
            #expect(tokens == ids.count + 1)
            #expect(abs(logProbability - expected) < 1e-4, "line \(number)")
        }
    }

    @Test func longLinesAreCutAndUnknownTokensCounted() throws {
        let predictor = try Self.predictor(.next) { $0.maxContext = 3 }
        let p = try predictor.predict([(1, "The boats came in at dusk"), (2, "zzz qqq the")])
        #expect(p[0].truncated && p[0].tokens == 3)
        #expect(!p[1].truncated && p[1].unknown == 2)
        let complete = try Self.predictor(.complete).predict([(1, "Ada walked down to the har")])[0]
        let completer = try AutocompleterTests.autocompleter()
        completer.repeatsPassedOver = true  // predict shows the plain top-k: nothing was shown before
        completer.documentCache = nil  // and the model's own distribution
        #expect(complete.outcome == .suggestions(prefix: " har", items: (try completer
            .suggestions(for: "Ada walked down to the har")).items))
    }

    /// A line a reader held only the start of (a scored line longer than it holds) is scored without its line
    /// break, and marked truncated: its score is that of the line's first tokens.
    @Test func aScoredPartOfALineDoesNotEndOnTheLineBreak() throws {
        let predictor = try Self.predictor(.score)
        let whole = try predictor.predict([(1, "The boats came in at dusk", false)])[0]
        let part = try predictor.predict([(1, "The boats came in at dusk", true)])[0]
        #expect(!whole.truncated && whole.tokens == 7 && part.truncated && part.tokens == 6)
        let cut = try Self.predictor(.score) { $0.maxContext = 6 }.predict([(1, "The boats came in at dusk")])[0]
        #expect(part == cut, "the part scores as the line cut to its first tokens")
    }
}
