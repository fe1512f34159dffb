import Foundation
import Quill
import QuillTestSupport
import Testing

/// `evaluate(model:ids:batch:steps:)` and `Store.evaluateLanguageModel`: the state carried across windows, the
/// counting of targets, and bits per character.
@Suite struct LanguageModelEvaluationTests {
    static func model(_ kind: CellKind, vocabulary: Int = 11, seed: UInt64 = 5) throws -> LanguageModel {
        let model = try LanguageModel(.init(kind: kind, vocabulary: vocabulary, embedding: 4, hidden: 6, layers: 2))
        var rng = RNG(seed: seed)
        model.parameters.initialize(.uniform(scale: 0.6), rng: &rng)
        return model
    }

    static func ids(_ count: Int, vocabulary: Int = 11, seed: UInt64 = 9) -> [Int32] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in Int32(rng.next() % UInt64(vocabulary)) }
    }

    /// With one stream, the window length must not change the loss: the state carried from window to window makes
    /// windows of 1, 7 or 35 steps the same computation as one window over the whole text.
    @Test(arguments: [CellKind.lstm, .gru, .rnnTanh])
    func windowsCarryTheState(kind: CellKind) throws {
        let model = try Self.model(kind)
        let ids = Self.ids(50)
        let whole = try evaluate(model: model, ids: ids, batch: 1, steps: 49)
        #expect(whole.targets == 49)
        for steps in [1, 7, 35] {
            let windowed = try evaluate(model: model, ids: ids, batch: 1, steps: steps)
            #expect(windowed.targets == 49)
            #expect(abs(windowed.meanLoss - whole.meanLoss) <= 1e-6 * whole.meanLoss,
                    "steps \(steps): \(windowed.meanLoss) vs one window \(whole.meanLoss)")
        }
        // Dropping the state at every window boundary gives another number: the test would see a reset.
        var reset = RunningMean()
        for start in stride(from: 0, to: 49, by: 7) {
            let end = min(start + 8, 50)
            let part = try evaluate(model: model, ids: Array(ids[start..<end]), batch: 1, steps: 7)
            reset.add(sum: part.totalLoss, count: part.targets)
        }
        #expect(reset.count == 49 && abs(reset.mean - whole.meanLoss) > 1e-4)
    }

    /// The same numbers as the training objective's own validation, for any batch and window.
    @Test(arguments: [(1, 35), (3, 4), (5, 2)])
    func matchesTheTrainersEvaluation(batch: Int, steps: Int) throws {
        let model = try Self.model(.lstm)
        let ids = Self.ids(61)
        let objective = try LanguageModelObjective(model: model, trainIDs: ids, batch: batch, steps: steps,
                                                   validIDs: ids)
        let expected = try #require(try objective.validationLoss(pool: .shared))
        let evaluation = try evaluate(model: model, ids: ids, batch: batch, steps: steps)
        #expect(evaluation.meanLoss == expected)
        #expect(evaluation.targets == batch * (61 / batch - 1))
        #expect(evaluation.perplexity == exp(expected))
        #expect(abs(evaluation.bitsPerToken - expected / log(2)) < 1e-12)
    }

    @Test func dropoutIsOffAndTheModeIsRestored() throws {
        let model = try Self.model(.lstm)
        let ids = Self.ids(30)
        let plain = try evaluate(model: model, ids: ids, batch: 2, steps: 4)
        model.dropout = 0.5
        model.isTraining = true
        var windows: [(Int, Int)] = []
        let withDropout = try evaluate(model: model, ids: ids, batch: 2, steps: 4) { windows.append(($0, $1)) }
        #expect(withDropout == plain)
        #expect(model.isTraining)
        #expect(windows.map(\.0) == [1, 2, 3, 4] && windows.allSatisfy { $0.1 == 4 })  // L = 15: 14 targets, 4 windows
    }

    @Test func refusesTooFewIds() throws {
        let model = try Self.model(.gru)
        #expect(throws: TrainError.corpusTooSmall(tokens: 1, batchSize: 1)) {
            try evaluate(model: model, ids: [3], batch: 1, steps: 5)
        }
        #expect(throws: TrainError.corpusTooSmall(tokens: 5, batchSize: 3)) {
            try evaluate(model: model, ids: Self.ids(5), batch: 3, steps: 5)
        }
    }

    // MARK: Through the store

    /// A store with vocabulary `name` of `level` built from `text`, and a random LSTM `m` over it.
    static func store(in directory: URL, text: String, level: TokenLevel) throws -> (Store, String) {
        let corpus = directory.appendingPathComponent("text.txt")
        try text.write(to: corpus, atomically: true, encoding: .utf8)
        let store = try Store(path: directory.appendingPathComponent("store.sqlite").path)
        var builder = VocabularyBuilder(settings: TokenizerSettings(level: level))
        try builder.addTokens(of: TextReader(path: corpus.path))
        let vocabulary = builder.build(minCount: 1, maxSize: 1000)
        try store.saveVocabulary(vocabulary, name: "v")
        try store.saveLanguageModel(try Self.model(.lstm, vocabulary: vocabulary.count), name: "m", vocabulary: "v")
        return (store, corpus.path)
    }

    static let text = "Le café naïve 👩‍👩‍👧 e\u{301}toile.\nThe cat sat.\r\nThe dog sat.\n"

    @Test func wordModelBitsPerCharacterOfTheText() throws {
        try withTemporaryDirectory { directory in
            let (store, path) = try Self.store(in: directory, text: Self.text, level: .word)
            let result = try store.evaluateLanguageModel(named: "m", text: path, steps: 4)
            #expect(result.characters == Self.text.count)  // grapheme clusters: the family emoji and é are one each
            #expect(result.level == .word && result.unknownTokens == 0 && result.replacements == 0)
            let (model, vocabulary) = try store.loadLanguageModel(named: "m")
            let ids = try TokenIDs.encode(file: path, vocabulary: vocabulary)
            let direct = try evaluate(model: model, ids: ids.ids, steps: 4)
            #expect(result.tokens == ids.count && result.evaluation == direct)
            let expected = result.evaluation.meanLoss * Double(result.tokens) / (log(2) * Double(Self.text.count))
            #expect(abs(result.bitsPerCharacter - expected) < 1e-12)
            #expect(result.bitsPerCharacter < result.evaluation.bitsPerToken)  // several characters per word token
        }
    }

    /// bfloat16 and int8 score the same streams as float32 (the same targets) with a loss close to it, for one stream
    /// and for several (the remainder dropped as the Batcher drops it).
    @Test func reducedPrecisionsScoreTheSameTargetsClosely() throws {
        try withTemporaryDirectory { directory in
            let (store, path) = try Self.store(in: directory, text: Self.text, level: .character)
            for batch in [1, 3] {
                let exact = try store.evaluateLanguageModel(named: "m", text: path, batch: batch, steps: 4)
                for precision in [Stepper.Precision.bfloat16, .int8] {
                    let reduced = try store.evaluateLanguageModel(named: "m", text: path, batch: batch, steps: 4,
                                                                  precision: precision)
                    #expect(reduced.precision == precision)
                    #expect(reduced.evaluation.targets == exact.evaluation.targets)
                    #expect(abs(reduced.evaluation.meanLoss - exact.evaluation.meanLoss)
                                < 0.02 * exact.evaluation.meanLoss,
                            "\(precision) batch \(batch): \(reduced.evaluation) vs \(exact.evaluation)")
                }
            }
        }
    }

    @Test func characterModelBitsPerCharacterAreBitsPerToken() throws {
        try withTemporaryDirectory { directory in
            let (store, path) = try Self.store(in: directory, text: Self.text, level: .character)
            let result = try store.evaluateLanguageModel(named: "m", text: path)
            #expect(result.level == .character)
            #expect(result.tokens == result.characters)
            #expect(result.bitsPerCharacter == result.evaluation.bitsPerToken)
        }
    }

    @Test func refusesATextOfOneToken() throws {
        try withTemporaryDirectory { directory in
            let (store, _) = try Self.store(in: directory, text: Self.text, level: .word)
            let short = directory.appendingPathComponent("short.txt")
            try "cat".write(to: short, atomically: true, encoding: .utf8)
            do {
                _ = try store.evaluateLanguageModel(named: "m", text: short.path)
                Issue.record("a one-token text cannot be evaluated")
            } catch let error as EvaluationError {
                #expect(error == .textTooShort(file: short.path, model: "m", tokens: 1, batch: 1))
                let message = error.description
                #expect(message.contains(short.path) && message.contains("1 token") && message.contains("at least 2"))
            }
            #expect(throws: StoreError.notFound(kind: "model", name: "nope", closest: ["m"])) {
                try store.evaluateLanguageModel(named: "nope", text: short.path)
            }
        }
    }
}
