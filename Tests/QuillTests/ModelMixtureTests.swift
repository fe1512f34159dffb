import Foundation
@testable import Quill
import QuillTestSupport
import Testing

/// `Store.evaluateMixture`: a language model and an n-gram model interpolated, each alone measured on the same
/// tokens as their own evaluations, and the weight tuned on validation text.
@Suite struct ModelMixtureTests {
    /// The golden-section search finds the grid's best weight (the mixture's loss is convex in it).
    @Test func bestWeightIsTheMinimum() {
        var rng = RNG(seed: 4)
        let a = (0..<500).map { _ in rng.uniform(0.001, 0.5) }, b = (0..<500).map { _ in rng.uniform(0.001, 0.5) }
        let best = Store.bestWeight(a, b)
        let grid = stride(from: 0.001, through: 0.999, by: 0.001).min {
            Store.meanLoss(a, b, weight: $0) < Store.meanLoss(a, b, weight: $1)
        }!
        #expect(abs(best - grid) < 2e-3, "golden section \(best), grid \(grid)")
        #expect(Store.meanLoss(a, b, weight: best) <= Store.meanLoss(a, b, weight: grid) + 1e-9)
    }

    @Test(arguments: [ModelCell.lstm, .gcnn])
    func bothModelsAloneAndTheMixture(cell: ModelCell) throws {
        try withTemporaryDirectory { directory in
            let (store, train, valid) = try LanguageModelWorkflowTests.storeWithVocabulary(in: directory)
            var training = LanguageModelTraining(corpus: train, vocabulary: "tiny", name: "m")
            training.cell = cell
            training.hidden = 8
            training.steps = 10
            training.batch = 4
            training.epochs = 2
            training.learningRate = 0.01
            _ = try training.run(in: store)
            try store.trainNGramModel(corpus: train, vocabulary: "tiny", order: 3, model: "kn3")

            let plain = try store.evaluateLanguageModel(named: "m", text: valid)
            let given = try store.evaluateMixture(model: "m", ngram: "kn3", text: valid, weight: 0.2)
            #expect(given.weight == 0.2 && given.tunedOn == nil && given.tokens == plain.evaluation.targets)
            #expect(abs(given.modelPerplexity / plain.evaluation.perplexity - 1) < 1e-5,
                    "\(given.modelPerplexity) vs quill eval's \(plain.evaluation.perplexity)")
            // A mixture is never worse than the worse of the two (the log is concave).
            #expect(given.perplexity <= max(given.modelPerplexity, given.ngramPerplexity))

            let tuned = try store.evaluateMixture(model: "m", ngram: "kn3", text: valid, tuneOn: valid)
            #expect(tuned.tunedOn == valid && tuned.weight > 0 && tuned.weight < 1)
            #expect(tuned.tunedPerplexity! <= given.perplexity + 1e-9, "tuned on the same text: at least as good")
            #expect(abs(tuned.tunedPerplexity! - tuned.perplexity) < 1e-9)
        }
    }
}
