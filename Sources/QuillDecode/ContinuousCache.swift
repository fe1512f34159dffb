import Foundation

/// A continuous cache (Grave, Joulin and Usunier 2017, "Improving Neural Language Models with a Continuous Cache",
/// arXiv:1612.04426): the model's distribution is mixed with one that favours the tokens that followed similar
/// states earlier in the same text, so names and terms of the text being typed come back sooner.
///
/// `p(w) = (1 − λ) p_model(w) + λ Σ_{i : x_{i+1} = w} exp(θ hᵀhᵢ) / Σ_i exp(θ hᵀhᵢ)` over the last `capacity` positions,
/// with `h` the top layer's hidden state. It needs no training; λ and θ were chosen on PTB valid (`Settings.default`).
public struct ContinuousCache: Sendable {
    public struct Settings: Equatable, Sendable, Codable {
        /// λ: the cache's share of the probability.
        public var weight: Float
        /// θ: how sharply the similarity of states selects entries.
        public var flatness: Float
        /// Positions remembered.
        public var capacity: Int

        public init(weight: Float, flatness: Float, capacity: Int) {
            precondition(weight > 0 && weight < 1 && flatness >= 0 && capacity >= 1, "invalid cache settings")
            self.weight = weight
            self.flatness = flatness
            self.capacity = capacity
        }

        /// λ = 0.2, θ = 0.5, 500 positions: chosen on the first 100,000 characters of PTB valid with a ptb-small model
        /// and 3 suggestions (a plateau: θ 0.3–0.7, λ 0.15–0.25 and 250–1,000 positions are within 0.2 points).
        public static let `default` = Settings(weight: 0.2, flatness: 0.5, capacity: 500)
    }

    public let settings: Settings
    /// Width of a hidden state.
    public let width: Int
    private var keys: [Float]
    private var values: [Int32]
    private var oldest = 0
    private var scores: [Float]

    public init(settings: Settings = .default, width: Int) {
        self.settings = settings
        self.width = width
        keys = []
        values = []
        keys.reserveCapacity(settings.capacity * width)
        scores = [Float](repeating: 0, count: settings.capacity)
    }

    public var count: Int { values.count }

    /// Remembers that `token` followed the state whose top-layer hidden state is `hidden`.
    public mutating func append<C: Collection<Float>>(hidden: C, next token: Int32) {
        precondition(hidden.count == width, "hidden state of width \(hidden.count), cache of width \(width)")
        if values.count < settings.capacity {
            keys.append(contentsOf: hidden)
            values.append(token)
        } else {
            keys.replaceSubrange(oldest * width..<(oldest + 1) * width, with: hidden)
            values[oldest] = token
            oldest = (oldest + 1) % settings.capacity
        }
    }

    /// Mixes the cache into `logProbabilities` (natural log, a distribution over the vocabulary) for the state whose
    /// top-layer hidden state is `hidden`. Leaves them as they are while the cache is empty.
    public mutating func mix(into logProbabilities: UnsafeMutableBufferPointer<Float>,
                             hidden: UnsafeBufferPointer<Float>) {
        precondition(hidden.count == width, "hidden state of width \(hidden.count), cache of width \(width)")
        let n = values.count
        guard n > 0 else { return }
        let theta = settings.flatness
        var top = -Float.infinity
        keys.withUnsafeBufferPointer { keys in
            for i in 0..<n {
                var dot: Float = 0
                for j in 0..<width { dot += keys[i * width + j] * hidden[j] }
                scores[i] = theta * dot
                top = max(top, scores[i])
            }
        }
        var total: Float = 0
        for i in 0..<n {
            scores[i] = exp(scores[i] - top)
            total += scores[i]
        }
        let lambda = settings.weight
        let keep = log(1 - lambda)
        for i in logProbabilities.indices { logProbabilities[i] += keep }
        // Each distinct token once: add its cache mass (summed over its positions) to its scaled model probability.
        var mass: [Int32: Float] = [:]
        for i in 0..<n { mass[values[i], default: 0] += scores[i] }
        for (token, m) in mass {
            let t = Int(token)
            logProbabilities[t] = log(exp(logProbabilities[t]) + lambda * m / total)
        }
    }
}
