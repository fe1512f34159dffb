import Foundation

/// A language model and an n-gram model mixed by linear interpolation, `p(w) = (1 − α)·p_model(w) + α·p_ngram(w)`
/// (Mikolov et al. 2011 mix a recurrent model with a Kneser-Ney 5-gram this way), measured on a text: each model
/// alone and the mixture, on the same tokens. The weight `α` is given, or tuned on another text (validation data).
public struct MixtureEvaluation: Codable, Sendable, Equatable {
    public var model: String
    public var ngram: String
    public var file: String
    /// Tokens scored: every token the language model predicts (see `targetLogProbabilities`).
    public var tokens: Int
    /// `α`, the n-gram model's share.
    public var weight: Double
    /// The file `α` was tuned on (nil when it was given), and the mixture's perplexity there.
    public var tunedOn: String?
    public var tunedPerplexity: Double?
    public var modelPerplexity: Double
    public var ngramPerplexity: Double
    /// The mixture's perplexity.
    public var perplexity: Double
}

extension Store {
    /// Mixes a stored language model (recurrent or convolutional) with a stored n-gram model of the same vocabulary
    /// and measures both and the mixture on `text`.
    ///
    /// The n-gram model reads the text as `quill ngram eval` does (a model counted over sentences starts again after
    /// each line break); the language model as `quill eval` does with `batch` and `steps`.
    /// - Parameters:
    ///   - weight: `α` in (0, 1); nil tunes it on `tuneOn` (or uses ``NGramMixture/defaultWeight`` without one).
    ///   - tuneOn: a validation text on which `α` minimises the mixture's perplexity (the perplexity is convex in
    ///     `α`, so a golden-section search finds the optimum).
    /// - Throws: as ``evaluateLanguageModel(named:text:batch:steps:lossy:precision:pool:progress:)`` and
    ///   ``loadNGramModel(named:vocabulary:)`` (which checks the n-gram model uses the model's vocabulary).
    public func evaluateMixture(model name: String, ngram ngramName: String, text path: String, weight: Double? = nil,
                                tuneOn validation: String? = nil, batch: Int = 1, steps: Int = 35,
                                lossy: Bool = false, pool: ThreadPool = .shared,
                                progress: ((Int, Int) -> Void)? = nil) throws -> MixtureEvaluation {
        precondition(weight == nil || validation == nil, "a weight is given or tuned, not both")
        guard batch >= 1, steps >= 1 else { throw TrainError.invalidShape(batchSize: batch, steps: steps) }
        let (model, vocabulary) = try loadStreamLanguageModel(named: name)
        let ngram = try ngramModel(named: ngramName, for: name, vocabulary: vocabulary)
        func probabilities(_ file: String) throws -> (model: [Float], ngram: [Float]) {
            let ids = try TokenIDs.encode(file: file, vocabulary: vocabulary, lossy: lossy).ids
            guard ids.count >= 2 * batch else {
                throw EvaluationError.textTooShort(file: file, model: name, tokens: ids.count, batch: batch)
            }
            let neural = try targetLogProbabilities(model: model, ids: ids, batch: batch, steps: steps, pool: pool,
                                                    progress: progress)
            let counted = Self.ngramProbabilities(ngram, ids: ids, vocabulary: vocabulary)
            var a: [Float] = [], b: [Float] = []
            for i in ids.indices where !neural[i].isNaN {
                a.append(exp(neural[i]))
                b.append(counted[i])
            }
            return (a, b)
        }
        var tuned: (file: String, perplexity: Double)?
        var alpha = weight ?? Double(NGramMixture.defaultWeight)
        if let validation {
            let (a, b) = try probabilities(validation)
            alpha = Self.bestWeight(a, b)
            tuned = (validation, exp(Self.meanLoss(a, b, weight: alpha)))
        }
        let (a, b) = try probabilities(path)
        return MixtureEvaluation(model: name, ngram: ngramName, file: path, tokens: a.count, weight: alpha,
                                 tunedOn: tuned?.file, tunedPerplexity: tuned?.perplexity,
                                 modelPerplexity: exp(Self.meanLoss(a, b, weight: 0)),
                                 ngramPerplexity: exp(Self.meanLoss(a, b, weight: 1)),
                                 perplexity: exp(Self.meanLoss(a, b, weight: alpha)))
    }

    /// The n-gram model's probability of every token from the ones before it (the first from a line start): a model
    /// counted over sentences starts a sentence after each line break, as it was counted.
    static func ngramProbabilities(_ ngram: KneserNeyModel, ids: [Int32], vocabulary: Vocabulary) -> [Float] {
        var state = ngram.boundary != nil ? ngram.sentenceStart : ngram.start(after: vocabulary.lineStartID)
        return ids.map { id in
            let p = ngram.score(id, state: &state)
            if id == ngram.boundary { state = ngram.sentenceStart }
            return p
        }
    }

    /// `−mean log((1 − α)·a + α·b)` in `Double`.
    static func meanLoss(_ a: [Float], _ b: [Float], weight alpha: Double) -> Double {
        var total = 0.0
        for i in a.indices { total -= log((1 - alpha) * Double(a[i]) + alpha * Double(b[i])) }
        return total / Double(max(1, a.count))
    }

    /// The `α` in [0.001, 0.999] that minimises ``meanLoss(_:_:weight:)``: golden-section search, exact for a convex
    /// function (a mixture's negative log-likelihood is convex in its weight) to 1e-6.
    static func bestWeight(_ a: [Float], _ b: [Float]) -> Double {
        let ratio = (sqrt(5.0) - 1) / 2
        var (low, high) = (0.001, 0.999)
        var x1 = high - ratio * (high - low), x2 = low + ratio * (high - low)
        var f1 = meanLoss(a, b, weight: x1), f2 = meanLoss(a, b, weight: x2)
        while high - low > 1e-6 {
            if f1 <= f2 {
                (high, x2, f2) = (x2, x1, f1)
                x1 = high - ratio * (high - low)
                f1 = meanLoss(a, b, weight: x1)
            } else {
                (low, x1, f1) = (x1, x2, f2)
                x2 = low + ratio * (high - low)
                f2 = meanLoss(a, b, weight: x2)
            }
        }
        return (low + high) / 2
    }
}
