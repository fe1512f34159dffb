/// The area under the ROC curve of a score that should rank positives above negatives: the probability that a
/// random positive scores above a random negative, ties counting one half (Mann–Whitney U / (n₊·n₋)).
public enum ROC {
    /// - Parameters: `scores` and `labels` (true: positive) of the same items.
    /// - Returns: the AUC in `[0, 1]`, or nil without both a positive and a negative.
    public static func auc(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count, "one label per score")
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        // Ranks of the scores (ties share their mean rank), then U from the positives' rank sum.
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] { rankSum += rank }
            i = j + 1
        }
        let u = rankSum - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }
}
