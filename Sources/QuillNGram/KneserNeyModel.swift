import Foundation

/// An interpolated Kneser-Ney n-gram model over token ids (Kneser and Ney 1995; Chen and Goodman 1999, §3): the
/// highest order uses counts, the lower orders continuation counts (how many distinct tokens precede an n-gram), each
/// order with one absolute discount `D = n₁ / (n₁ + 2 n₂)` from its counts of counts. The unigram level is mixed
/// with a uniform distribution (weight 10⁻³), so no token has probability zero.
///
///     let model = KneserNeyModel(ids: corpusIDs, vocabularySize: vocabulary.count, order: 4)
///     model.probabilities(after: typedIDs[...], into: &p)      // p[w] = P(w | the last 3 ids)
///
/// Each order is held as sorted arrays (contexts, each with a range of followers), found by binary search; the same
/// arrays are what a store keeps (``grams(order:)``, ``init(vocabularySize:grams:)``).
public struct KneserNeyModel: Sendable {
    /// The largest order: 2 for bigrams, 3 for trigrams, … at most ``maximumOrder``.
    public let order: Int
    public let vocabularySize: Int
    /// Contexts pack 16-bit token ids into 64 bits.
    public static let maximumOrder = 4
    public static let maximumVocabularySize = 1 << 16
    /// Share of the uniform distribution in the unigram level.
    public static let uniformShare: Float = 1e-3

    /// The n-grams of one order, grouped by context: context `i` has followers `start[i]..<start[i + 1]`.
    struct Level: Sendable {
        var contexts: [UInt64] = []
        var start: [Int] = [0]
        var tokens: [Int32] = []
        var counts: [Float] = []
        var totals: [Float] = []
        var discount: Float = 0.75
    }

    /// `levels[n - 1]` holds order `n` (contexts of `n - 1` tokens).
    private var levels: [Level]
    private var unigram: [Float]

    /// Counts the n-grams of `ids`: one stream, in which line breaks are tokens like any other.
    public init(ids: [Int32], vocabularySize: Int, order: Int = 3) {
        precondition((1...Self.maximumOrder).contains(order), "orders 1…\(Self.maximumOrder)")
        precondition(vocabularySize <= Self.maximumVocabularySize, "token ids must fit 16 bits")
        var grams = [[UInt64: Int32]](repeating: [:], count: order + 1)
        for n in 1...order where ids.count >= n {
            for end in n...ids.count { grams[n][Self.pack(ids[(end - n)..<end]), default: 0] += 1 }
        }
        // Counts for the highest order; continuation counts (distinct left neighbours) below it.
        var counts = grams
        for n in 1..<order {
            counts[n] = [:]
            for gram in grams[n + 1].keys { counts[n][gram & Self.mask(n), default: 0] += 1 }
        }
        self.init(vocabularySize: vocabularySize,
                  grams: (1...order).map { n in counts[n].map { (Self.unpack($0.key, n), Float($0.value)) } })
    }

    /// A model from its n-grams: `grams[n - 1]` lists each n-gram of order `n` (its `n` token ids) with its count
    /// (for orders below the highest, its continuation count), in any order.
    public init(vocabularySize: Int, grams: [[(ids: [Int32], count: Float)]]) {
        precondition((1...Self.maximumOrder).contains(grams.count), "orders 1…\(Self.maximumOrder)")
        precondition(vocabularySize <= Self.maximumVocabularySize, "token ids must fit 16 bits")
        order = grams.count
        self.vocabularySize = vocabularySize
        levels = grams.enumerated().map { n, list in
            let sorted = list.map { (Self.pack($0.ids), $0.count) }.sorted { $0.0 < $1.0 }
            var level = Level()
            var (n1, n2) = (0, 0)
            for (gram, count) in sorted {
                if count == 1 { n1 += 1 } else if count == 2 { n2 += 1 }
                let context = n == 0 ? 0 : gram >> 16
                if level.contexts.last != context {
                    if !level.contexts.isEmpty { level.start.append(level.tokens.count) }
                    level.contexts.append(context)
                    level.totals.append(0)
                }
                level.tokens.append(Int32(gram & 0xFFFF))
                level.counts.append(count)
                level.totals[level.totals.count - 1] += count
            }
            level.start.append(level.tokens.count)
            if n1 > 0 { level.discount = Float(n1) / Float(n1 + 2 * n2) }
            return level
        }
        var p = [Float](repeating: 0, count: vocabularySize)
        if let root = levels.first, root.contexts.count == 1 {
            for i in root.start[0]..<root.start[1] { p[Int(root.tokens[i])] = root.counts[i] / root.totals[0] }
        }
        let share = Self.uniformShare
        unigram = p.map { (1 - share) * $0 + share / Float(vocabularySize) }
    }

    /// The n-grams of order `n` (1…``order``) and their counts, sorted: what ``init(vocabularySize:grams:)`` takes.
    public func grams(order n: Int) -> [(ids: [Int32], count: Float)] {
        let level = levels[n - 1]
        return level.contexts.indices.flatMap { c in
            (level.start[c]..<level.start[c + 1]).map { i in
                (Self.unpack(level.contexts[c] << 16 | UInt64(level.tokens[i]), n), level.counts[i])
            }
        }
    }

    /// The discount of order `n`.
    public func discount(order n: Int) -> Float { levels[n - 1].discount }

    /// The probabilities of the next token after `history` (only its last `order - 1` tokens matter).
    public func probabilities(after history: ArraySlice<Int32>, into p: inout [Float]) {
        p.removeAll(keepingCapacity: true)
        p.append(contentsOf: unigram)
        forEachSeenContext(of: history) { level, range, total, backoff in
            let d = level.discount
            for i in p.indices { p[i] *= backoff }
            for i in range { p[Int(level.tokens[i])] += max(level.counts[i] - d, 0) / total }
        }
    }

    /// The probability of `token` after `history`.
    public func probability(of token: Int32, after history: ArraySlice<Int32>) -> Float {
        var p = unigram[Int(token)]
        forEachSeenContext(of: history) { level, range, total, backoff in
            let i = Self.find(UInt64(token), in: level.tokens[range].lazy.map { UInt64($0) })
            p = backoff * p + max((i.map { level.counts[$0] } ?? 0) - level.discount, 0) / total
        }
        return p
    }

    /// Calls `body`, from order 2 up, for each order whose context (the last `n − 1` tokens of `history`) was seen:
    /// with its followers' range, their count total and the weight left to the lower orders, `D · followers / total`.
    private func forEachSeenContext(of history: ArraySlice<Int32>,
                                    _ body: (Level, Range<Int>, Float, Float) -> Void) {
        guard order > 1 else { return }
        for n in 2...order where history.count >= n - 1 {
            let level = levels[n - 1]
            guard let c = Self.find(Self.pack(history.suffix(n - 1)), in: level.contexts) else { continue }
            let range = level.start[c]..<level.start[c + 1]
            let total = level.totals[c]
            body(level, range, total, level.discount * Float(range.count) / total)
        }
    }

    static func find<C: RandomAccessCollection<UInt64>>(_ key: UInt64, in sorted: C) -> C.Index? {
        var (low, high) = (sorted.startIndex, sorted.endIndex)
        while low < high {
            let mid = sorted.index(low, offsetBy: sorted.distance(from: low, to: high) / 2)
            if sorted[mid] < key { low = sorted.index(after: mid) } else { high = mid }
        }
        return low < sorted.endIndex && sorted[low] == key ? low : nil
    }

    static func pack<C: Collection<Int32>>(_ ids: C) -> UInt64 {
        ids.reduce(0) { ($0 << 16) | UInt64(UInt16(truncatingIfNeeded: $1)) }
    }

    static func unpack(_ gram: UInt64, _ n: Int) -> [Int32] {
        (0..<n).reversed().map { Int32((gram >> (16 * UInt64($0))) & 0xFFFF) }
    }

    /// Keeps the last `n` tokens of a packed n-gram.
    static func mask(_ n: Int) -> UInt64 { n >= 4 ? ~0 : (1 << (16 * UInt64(n))) - 1 }
}
