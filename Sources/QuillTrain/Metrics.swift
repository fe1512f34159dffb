import Foundation

/// Conversions of a mean cross-entropy loss in nats per token.
public enum Perplexity {
    /// `exp(meanLoss)`: the perplexity of a mean loss in nats per token.
    public static func perplexity(meanLoss: Double) -> Double { exp(meanLoss) }

    /// `meanLoss / ln 2`: bits per token, i.e. bits per character for a character model.
    public static func bitsPerCharacter(meanLoss: Double) -> Double { meanLoss / M_LN2 }
}

/// A weighted running mean whose sum and weight are kept in `Double`/`Int`, so the mean is that of all values added
/// (no incremental update drift). For losses: add each window's mean per-token loss with weight `t·B`.
public struct RunningMean: Codable, Equatable, Sendable {
    /// Sum of `value · weight`.
    public private(set) var sum: Double = 0
    /// Sum of the weights (tokens).
    public private(set) var count: Int = 0

    public init() {}

    /// Adds `value` with weight `weight` (e.g. a window's mean loss and its token count).
    public mutating func add(_ value: Double, weight: Int = 1) {
        precondition(weight >= 0)
        sum += value * Double(weight)
        count += weight
    }

    /// Adds a sum of `count` values at once.
    public mutating func add(sum: Double, count: Int) {
        self.sum += sum
        self.count += count
    }

    /// The mean, 0 when nothing was added.
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// `exp(mean)`, for a mean loss in nats.
    public var perplexity: Double { Perplexity.perplexity(meanLoss: mean) }

    /// `mean / ln 2`, for a mean loss in nats per character.
    public var bitsPerCharacter: Double { Perplexity.bitsPerCharacter(meanLoss: mean) }

    public mutating func reset() { self = RunningMean() }
}
