import Foundation
import QuillTensor

/// A token and its log-probability.
public struct ScoredToken: Equatable, Sendable {
    public var id: Int32
    public var logProbability: Float

    public init(id: Int32, logProbability: Float) {
        self.id = id
        self.logProbability = logProbability
    }
}

/// Choosing tokens from a next-token distribution.
public enum TokenSelection {
    /// The `k` most likely of `candidates` (all ids when nil), best first; ties go to the lower id.
    public static func topK<C: Collection<Int32>>(_ logProbabilities: UnsafeBufferPointer<Float>, k: Int,
                                                 among candidates: C) -> [ScoredToken] {
        guard k > 0 else { return [] }
        var best: [ScoredToken] = []
        best.reserveCapacity(k + 1)
        for id in candidates {
            let p = logProbabilities[Int(id)]
            if best.count == k, let last = best.last, !(p > last.logProbability) { continue }
            // Insert keeping best-first order (k is small).
            var i = best.count
            while i > 0, p > best[i - 1].logProbability || (p == best[i - 1].logProbability && id < best[i - 1].id) {
                i -= 1
            }
            best.insert(ScoredToken(id: id, logProbability: p), at: i)
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// The `k` most likely ids of the whole distribution except `excluded`.
    public static func topK(_ logProbabilities: UnsafeBufferPointer<Float>, k: Int, excluding excluded: Set<Int32> = [])
        -> [ScoredToken] {
        topK(logProbabilities, k: k, among: (0..<Int32(logProbabilities.count)).lazy.filter { !excluded.contains($0) })
    }
}

/// How a continuation is sampled: `softmax(log p / temperature)` restricted to the `topK` most likely tokens and to
/// the smallest set whose probability reaches `topP` (nucleus sampling, Holtzman et al. 2020).
public struct SamplingOptions: Equatable, Sendable {
    /// > 0; 1 samples the model's distribution, below 1 sharpens it.
    public var temperature: Double
    /// Keep only this many most likely tokens (`nil`: all).
    public var topK: Int?
    /// Keep the most likely tokens until their probability reaches this, in (0, 1].
    public var topP: Double

    public init(temperature: Double = 1, topK: Int? = nil, topP: Double = 1) {
        precondition(temperature > 0 && temperature.isFinite, "temperature must be positive")
        precondition(topK.map { $0 >= 1 } ?? true, "top-k must be at least 1")
        precondition(topP > 0 && topP <= 1, "top-p must be in (0, 1]")
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Draws a token from `logProbabilities` restricted to `allowed` (or all but `excluded`).
    public func sample(_ logProbabilities: UnsafeBufferPointer<Float>, excluding excluded: Set<Int32> = [],
                       rng: inout RNG) -> Int32 {
        // Candidates in decreasing probability (stable by id), cut by top-k, then by top-p on the tempered weights.
        var candidates = (0..<Int32(logProbabilities.count)).filter {
            !excluded.contains($0) && logProbabilities[Int($0)] > -.infinity
        }
        guard !candidates.isEmpty else { return 0 }
        candidates.sort {
            let (a, b) = (logProbabilities[Int($0)], logProbabilities[Int($1)])
            return a > b || (a == b && $0 < $1)
        }
        if let topK, candidates.count > topK { candidates.removeLast(candidates.count - topK) }
        let top = Double(logProbabilities[Int(candidates[0])])
        var weights = candidates.map { exp((Double(logProbabilities[Int($0)]) - top) / temperature) }
        if topP < 1 {
            let total = weights.reduce(0, +)
            var running = 0.0
            var keep = weights.count
            for (i, w) in weights.enumerated() {
                running += w
                if running >= topP * total {
                    keep = i + 1
                    break
                }
            }
            weights.removeLast(weights.count - keep)
        }
        let total = weights.reduce(0, +)
        var u = Double(rng.next() >> 11) * 0x1p-53 * total  // 53 random bits: uniform in [0, total)
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return candidates[i] }
        }
        return candidates[weights.count - 1]
    }
}
