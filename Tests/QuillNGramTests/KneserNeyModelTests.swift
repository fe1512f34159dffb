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
        }
    }
}
