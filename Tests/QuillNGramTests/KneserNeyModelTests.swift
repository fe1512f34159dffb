import Foundation
import QuillNGram
import Testing

/// Interpolated Kneser-Ney against counts worked out by hand, and its invariants.
@Suite struct KneserNeyModelTests {
    // a b a c a b, V = 4 (token 3 never seen).
    static let ids: [Int32] = [0, 1, 0, 2, 0, 1]

    @Test func bigramsByHand() {
        let model = KneserNeyModel(ids: Self.ids, vocabularySize: 4, order: 2)
        // Continuation counts: a follows b and c (2), b follows a (1), c follows a (1); 4 distinct bigrams.
        let share = KneserNeyModel.uniformShare
        let unigram: [Float] = [2, 1, 1, 0].map { (1 - share) * $0 / 4 + share / 4 }
        // Bigram counts: ab 2, ba 1, ac 1, ca 1: n1 = 3, n2 = 1, D = 3 / 5.
        #expect(abs(model.discount(order: 2) - 0.6) < 1e-6)
        // After a: c(a·) = 3 with 2 followers; P(b|a) = (2 − D)/3 + D·2/3·p1(b).
        let d: Float = 0.6
        var p = [Float]()
        model.probabilities(after: [0][...], into: &p)
        let expected: [Float] = (0..<4).map { w in
            let count: Float = w == 1 ? 2 : w == 2 ? 1 : 0
            return max(count - d, 0) / 3 + d * 2 / 3 * unigram[w]
        }
        for w in 0..<4 {
            #expect(abs(p[w] - expected[w]) < 1e-6, "token \(w)")
            #expect(abs(model.probability(of: Int32(w), after: [0][...]) - expected[w]) < 1e-6)
        }
        // An unseen context backs off to the unigrams.
        model.probabilities(after: [3][...], into: &p)
        for w in 0..<4 { #expect(abs(p[w] - unigram[w]) < 1e-6) }
    }

    @Test func everyDistributionSumsToOneAndStorageRoundTrips() {
        var state: UInt64 = 42
        let ids = (0..<3000).map { _ -> Int32 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32((state >> 33) % 37) % (Int32((state >> 50) % 3) == 0 ? 5 : 37)  // skewed: repeats
        }
        for order in 1...4 {
            let model = KneserNeyModel(ids: ids, vocabularySize: 40, order: order)
            let copy = KneserNeyModel(vocabularySize: 40, grams: (1...order).map { model.grams(order: $0) }.reversed()
                .reversed())
            var p = [Float](), q = [Float]()
            for end in [0, 1, 2, 3, 100, 2999, 3000] {
                let history = ids[..<end]
                model.probabilities(after: history, into: &p)
                copy.probabilities(after: history, into: &q)
                #expect(abs(p.reduce(0, +) - 1) < 1e-4, "order \(order) after \(end) tokens")
                #expect(p == q, "the stored n-grams rebuild the same model")
                #expect(p.allSatisfy { $0 > 0 })
                #expect(abs(model.probability(of: 4, after: history) - p[4]) < 1e-6)
            }
            // Stores written before the trie kept no n-gram of continuation count 0 (the stream's first ones),
            // though a longer one starts with it: they load as the same model.
            let old = KneserNeyModel(vocabularySize: 40, grams: (1...order).map { model.grams(order: $0).filter { $0.count > 0 } })
            for end in [0, 1, 2, 3, 100, 3000] {
                model.probabilities(after: ids[..<end], into: &p)
                old.probabilities(after: ids[..<end], into: &q)
                #expect(p == q, "order \(order) after \(end) tokens")
            }
        }
    }
}

/// Modified and plain Kneser-Ney over sentences against a dictionary-based reference written from Chen and Goodman's
/// formulas (and SRILM's and `lmplz`'s conventions), orders 2…5.
@Suite struct SentenceKneserNeyTests {
    /// Sentences over tokens 1…11 with a skewed distribution (so counts of counts n₁…n₄ are all present), 0 the
    /// boundary, 12…13 never seen.
    static let sentences: [[Int32]] = {
        var state: UInt64 = 7
        func next(_ n: UInt64) -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (state >> 33) % n
        }
        return (0..<120).map { _ in
            (0..<(1 + Int(next(7)))).map { _ in Int32(next(3) == 0 ? 1 + next(11) : 1 + next(3)) }
        }
    }()
    static let vocabularySize = 14
    static let flat: [Int32] = sentences.flatMap { $0 + [Int32(0)] }

    @Test(arguments: [2, 3, 4, 5], KneserNeyModel.Smoothing.allCases)
    func probabilitiesMatchTheReference(order: Int, smoothing: KneserNeyModel.Smoothing) {
        let model = KneserNeyModel(sentences: Self.flat, boundary: 0, vocabularySize: Self.vocabularySize,
                                   order: order, smoothing: smoothing)
        let reference = ReferenceKneserNey(sentences: Self.sentences, boundary: 0, vocabularySize: Self.vocabularySize,
                                           order: order, modified: smoothing == .modified)
        // The corpus has counts of counts n₁…n₄ at order 2: three distinct discounts for modified KN.
        #expect(smoothing == .plain || Set(model.discounts(order: 2)).count == 3)
        for n in 1...order {
            for (k, d) in model.discounts(order: n).enumerated() {
                #expect(abs(Double(d) - reference.discounts[n][k]) < 1e-6, "order \(n) D\(k + 1)")
            }
        }
        var p = [Float]()
        for sentence in Self.sentences.prefix(25) {
            let padded = [Int32(0)] + sentence
            for end in 1...padded.count {
                let history = padded[..<end]
                model.probabilities(after: history, into: &p)
                #expect(abs(p.reduce(0, +) - 1) < 1e-5, "sums to 1 after \(Array(history))")
                for w in 0..<Int32(Self.vocabularySize) {
                    let expected = reference.probability(of: w, after: Array(history))
                    #expect(abs(Double(p[Int(w)]) - expected) < 1e-6 * max(1, expected * 10),
                            "p(\(w) | \(Array(history))) order \(order)")
                    #expect(model.probability(of: w, after: history) == p[Int(w)])
                }
            }
            // A running state scores a sentence as the history does.
            var state = model.sentenceStart
            for (i, w) in (sentence + [0]).enumerated() {
                #expect(model.score(w, state: &state) == model.probability(of: w, after: padded[..<(i + 1)][...]))
            }
        }
    }

    @Test(arguments: KneserNeyModel.Smoothing.allCases)
    func flatGramsRebuildTheSameModel(smoothing: KneserNeyModel.Smoothing) throws {
        let model = KneserNeyModel(sentences: Self.flat, boundary: 0, vocabularySize: Self.vocabularySize, order: 5,
                                   smoothing: smoothing)
        let grams = (1...5).map(model.flatGrams(order:))
        let copy = try KneserNeyModel(vocabularySize: Self.vocabularySize, smoothing: smoothing, boundary: 0,
                                      ids: grams.map(\.ids), counts: grams.map(\.counts))
        var (p, q) = ([Float](), [Float]())
        for history in [[0], [0, 1], [0, 2, 3], [1, 2, 3, 1], [13, 0]] as [[Int32]] {
            model.probabilities(after: history[...], into: &p)
            copy.probabilities(after: history[...], into: &q)
            #expect(p == q)
        }
        // Unsorted or orphaned n-grams are refused.
        var shuffled = grams[1].ids
        shuffled.swapAt(0, 2); shuffled.swapAt(1, 3)
        #expect(throws: KneserNeyModel.GramError.self) {
            try KneserNeyModel(vocabularySize: Self.vocabularySize, smoothing: smoothing, boundary: 0,
                               ids: [grams[0].ids, shuffled], counts: [grams[0].counts, grams[1].counts])
        }
    }
}

/// Interpolated Kneser-Ney as the formulas say, on dictionaries: slow and plain, the oracle of the tests above.
/// Each sentence is `<s> … </s>`; n-grams do not cross sentences; counts at the highest order, below it the number of
/// distinct left neighbours, except for n-grams starting with `<s>`, which keep their counts; the unigrams are
/// interpolated with the uniform distribution.
struct ReferenceKneserNey {
    let order: Int
    let vocabularySize: Int
    /// `counts[n][gram]`: the count the discounting sees.
    var counts: [[[Int32]: Double]]
    /// `discounts[n]`: `D₁, D₂, D₃₊`.
    var discounts: [[Double]]

    init(sentences: [[Int32]], boundary: Int32, vocabularySize: Int, order: Int, modified: Bool) {
        self.order = order
        self.vocabularySize = vocabularySize
        var raw = [[[Int32]: Double]](repeating: [:], count: order + 1)
        for sentence in sentences {
            let t = [boundary] + sentence + [boundary]
            for n in 1...order where n <= t.count {
                for start in 0...(t.count - n) where !(n == 1 && start == 0) {  // <s> is never predicted
                    raw[n][Array(t[start..<(start + n)]), default: 0] += 1
                }
            }
        }
        var counts = raw
        for n in 1..<order {
            counts[n] = [:]
            for gram in raw[n].keys {
                if n > 1 && gram[0] == boundary {
                    counts[n][gram] = raw[n][gram]
                } else {
                    counts[n][gram] = Double(raw[n + 1].keys.filter { Array($0.dropFirst()) == gram }.count)
                }
            }
        }
        self.counts = counts
        discounts = [[]] + (1...order).map { n in
            var c = [Double](repeating: 0, count: 5)
            for value in counts[n].values where value <= 4 { c[Int(value)] += 1 }
            let y = c[1] > 0 ? c[1] / (c[1] + 2 * c[2]) : 0.75
            if !modified { return [y, y, y] }
            return (1...3).map { k in
                let d = c[k] > 0 && c[k + 1] > 0 ? Double(k) - Double(k + 1) * y * c[k + 1] / c[k] : y
                return min(max(d, 0), Double(k))
            }
        }
    }

    func discount(_ count: Double, order n: Int) -> Double {
        count >= 3 ? discounts[n][2] : count >= 2 ? discounts[n][1] : count > 0 ? discounts[n][0] : 0
    }

    /// `p(w | history)`, from the last `order − 1` tokens of `history`.
    func probability(of w: Int32, after history: [Int32]) -> Double {
        let context = Array(history.suffix(order - 1))
        let n = context.count + 1
        let followers = counts[n].filter { Array($0.key.dropLast()) == context }
        if context.isEmpty {
            let total = followers.values.reduce(0, +)
            let gamma = followers.values.map { discount($0, order: 1) }.reduce(0, +) / total
            let c = counts[1][[w]] ?? 0
            return max(c - discount(c, order: 1), 0) / total + gamma / Double(vocabularySize)
        }
        let lower = probability(of: w, after: Array(context.dropFirst()))
        if followers.isEmpty { return lower }
        let total = followers.values.reduce(0, +)
        let gamma = followers.values.map { discount($0, order: n) }.reduce(0, +) / total
        let c = counts[n][context + [w]] ?? 0
        return max(c - discount(c, order: n), 0) / total + gamma * lower
    }
}
