import Foundation
@_exported import QuillNGram

/// An n-gram model mixed into a recurrent model's next-token distribution by linear interpolation,
/// `p(w) = (1 − α) p_rnn(w) + α p_ngram(w | last n − 1 tokens)`: the two make different errors, so the mixture
/// ranks words better than either (Mikolov et al. 2011 mix a recurrent model with a Kneser-Ney 5-gram).
public struct NGramMixture: Sendable {
    public let model: KneserNeyModel
    /// α: the n-gram model's share.
    public let weight: Float
    private var scratch: [Float] = []

    /// α = 0.35 with a 4-gram: chosen on the first 100,000 characters of PTB valid with a ptb-small model and 3
    /// suggestions (see docs/prediction.md).
    public static let defaultWeight: Float = 0.35

    public init(model: KneserNeyModel, weight: Float = Self.defaultWeight) {
        precondition(weight > 0 && weight < 1, "the n-gram model's share must be in (0, 1)")
        self.model = model
        self.weight = weight
    }

    /// Mixes the n-gram model's distribution after `history` into `logProbabilities` (natural log).
    public mutating func mix(into logProbabilities: UnsafeMutableBufferPointer<Float>, after history: ArraySlice<Int32>) {
        precondition(logProbabilities.count == model.vocabularySize, "distribution and n-gram model differ in size")
        model.probabilities(after: history, into: &scratch)
        let (keep, share) = (1 - weight, weight)
        scratch.withUnsafeBufferPointer { p in
            for i in logProbabilities.indices { logProbabilities[i] = log(keep * exp(logProbabilities[i]) + share * p[i]) }
        }
    }
}
