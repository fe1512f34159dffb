import QuillMetrics
import Testing

@Suite struct ROCTests {
    @Test func perfectReversedAndTiedRankings() {
        #expect(ROC.auc(scores: [0.1, 0.2, 0.8, 0.9], labels: [false, false, true, true]) == 1)
        #expect(ROC.auc(scores: [0.9, 0.8, 0.2, 0.1], labels: [false, false, true, true]) == 0)
        #expect(ROC.auc(scores: [1, 1, 1, 1], labels: [false, true, false, true]) == 0.5)
        #expect(ROC.auc(scores: [1, 2], labels: [true, true]) == nil)
    }

    /// Against the pairwise definition on an irregular example with ties.
    @Test func matchesThePairwiseCount() {
        let scores: [Double] = [0.3, 0.7, 0.7, 0.1, 0.5, 0.9, 0.5, 0.2]
        let labels = [false, true, false, false, true, true, false, true]
        var wins = 0.0, pairs = 0.0
        for (p, lp) in zip(scores, labels) where lp {
            for (n, ln) in zip(scores, labels) where !ln {
                pairs += 1
                wins += p > n ? 1 : p == n ? 0.5 : 0
            }
        }
        #expect(ROC.auc(scores: scores, labels: labels) == wins / pairs)
    }
}
