import Foundation

/// chrF (Popović 2015), the F-score of character n-grams, and chrF++ (Popović 2017), which adds word unigrams and
/// bigrams, exactly as sacreBLEU 2.6 computes them (Post 2018).
///
/// The defaults are sacreBLEU's: character order 6, word order 0 (``plusPlus`` sets 2), β = 2 (recall weighs twice
/// as much as precision, per Popović 2016), cased, whitespace removed before taking character n-grams, and
/// effective-order averaging (no ε smoothing).
public struct CHRF: Sendable, Equatable {
    public var charOrder: Int
    public var wordOrder: Int
    public var beta: Int
    /// Lower-cases both sides (Python's `str.lower()`).
    public var lowercase: Bool
    /// Keeps whitespace inside character n-grams (off by default, as in sacreBLEU).
    public var whitespace: Bool
    /// The ε smoothing of chrF++.py, Moses and NLTK (a mean of per-order F-scores) instead of sacreBLEU's default,
    /// the F-score of precision and recall averaged over the orders present on both sides.
    public var epsSmoothing: Bool

    public init(charOrder: Int = 6, wordOrder: Int = 0, beta: Int = 2, lowercase: Bool = false,
                whitespace: Bool = false, epsSmoothing: Bool = false) {
        precondition((1...6).contains(charOrder) && (0...4).contains(wordOrder), "orders: char 1…6, word 0…4")
        self.charOrder = charOrder
        self.wordOrder = wordOrder
        self.beta = beta
        self.lowercase = lowercase
        self.whitespace = whitespace
        self.epsSmoothing = epsSmoothing
    }

    /// chrF++: word order 2.
    public static let plusPlus = CHRF(wordOrder: 2)

    /// `chrF2`, or `chrF2++` with word order 2 (one `+` per word order).
    public var name: String { "chrF\(beta)" + String(repeating: "+", count: wordOrder) }

    /// The reproducibility signature as sacreBLEU prints it, e.g.
    /// `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`.
    public var signature: String {
        "nrefs:1|case:\(lowercase ? "lc" : "mixed")|eff:\(epsSmoothing ? "no" : "yes")|nc:\(charOrder)"
            + "|nw:\(wordOrder)|space:\(whitespace ? "yes" : "no")|version:\(BLEU.sacreBLEUVersion)"
    }

    /// The statistics of one pair: `[hypothesis, reference, matched]` n-gram counts for character orders
    /// 1…`charOrder`, then word orders 1…`wordOrder`. A hypothesis count is 0 where the reference has no n-gram of
    /// that order (sacreBLEU's `_get_match_statistics`). Characters are Unicode scalars with Python's whitespace
    /// removed (`extract_all_char_ngrams` in `metrics/helpers.py`).
    public func statistics(hypothesis: String, reference: String) -> [Int] {
        var hyp = Array(hypothesis.unicodeScalars)
        var ref = Array(reference.unicodeScalars)
        if lowercase {
            hyp = PythonText.lowercased(hyp)
            ref = PythonText.lowercased(ref)
        }
        var stats: [Int] = []
        stats.reserveCapacity(3 * (charOrder + wordOrder))
        let hypChars = whitespace ? hyp : PythonText.removingSpaces(hyp)
        let refChars = whitespace ? ref : PythonText.removingSpaces(ref)
        for n in 1...charOrder {
            var h = NGrams.characterKeys(hypChars, order: n)
            var r = NGrams.characterKeys(refChars, order: n)
            Self.append(NGramMatch(hypothesis: &h, reference: &r), to: &stats)
        }
        if wordOrder > 0 {
            let (hypIDs, refIDs) = NGrams.ids(Self.words(hyp), Self.words(ref))
            for n in 1...wordOrder {
                var h = NGrams.wordKeys(hypIDs, order: n)
                var r = NGrams.wordKeys(refIDs, order: n)
                Self.append(NGramMatch(hypothesis: &h, reference: &r), to: &stats)
            }
        }
        return stats
    }

    private static func append(_ match: NGramMatch, to stats: inout [Int]) {
        stats.append(match.reference > 0 ? match.hypothesis : 0)
        stats.append(match.reference)
        stats.append(match.matched)
    }

    /// ASCII punctuation, Python's `string.punctuation`.
    private static func isASCIIPunctuation(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    /// chrF++'s words: whitespace-separated, and from each word longer than one scalar one trailing ASCII
    /// punctuation mark is split off, else one leading one (so `(hi)` gives `(hi` and `)`, as in sacreBLEU).
    static func words(_ s: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var out: [ArraySlice<Unicode.Scalar>] = []
        for w in PythonText.split(s) {
            if w.count == 1 {
                out.append(w)
            } else if isASCIIPunctuation(w[w.endIndex - 1]) {
                out.append(w[w.startIndex..<(w.endIndex - 1)])
                out.append(w[(w.endIndex - 1)...])
            } else if isASCIIPunctuation(w[w.startIndex]) {
                out.append(w[w.startIndex...w.startIndex])
                out.append(w[(w.startIndex + 1)...])
            } else {
                out.append(w)
            }
        }
        return out
    }

    /// Sentence chrF of one hypothesis against one reference.
    /// - Throws: ``MetricsError/emptyReference(index:)`` for an empty reference, which sacreBLEU refuses.
    public func sentenceScore(hypothesis: String, reference: String) throws -> CHRFScore {
        guard !reference.isEmpty else { throw MetricsError.emptyReference(index: 0) }
        return score(statistics(hypothesis: hypothesis, reference: reference))
    }

    /// Corpus chrF: statistics summed over all segments, then one score from the sums.
    /// - Throws: ``MetricsError`` when the lists differ in length, are empty, or a reference is empty.
    public func corpusScore(hypotheses: [String], references: [String]) throws -> CHRFScore {
        try MetricsError.check(hypotheses: hypotheses, references: references)
        let zero = [Int](repeating: 0, count: 3 * (charOrder + wordOrder))
        let stats = Parallel.sum(count: hypotheses.count, zero: zero, add: { zip($0, $1).map(+) }) { i in
            statistics(hypothesis: hypotheses[i], reference: references[i])
        }
        return score(stats)
    }

    /// The score from (summed) statistics: sacreBLEU's `_compute_f_score` (`metrics/chrf.py`).
    ///
    /// Precision and recall are averaged over the orders where both sides have n-grams; the score is
    /// `100 · (1 + β²) · P · R / (β² · P + R)`, or 0 when `P + R = 0`. With ``epsSmoothing`` it is instead the mean
    /// over all orders of each order's F-score, ε = 1e-16 standing in for an undefined precision or recall.
    public func score(_ stats: [Int]) -> CHRFScore {
        let order = charOrder + wordOrder
        precondition(stats.count == 3 * order, "chrF statistics hold 3 numbers per order")
        let eps = 1e-16
        let factor = Double(beta * beta)
        var epsScore = 0.0
        var avgPrecision = 0.0, avgRecall = 0.0
        var effective = 0
        for i in 0..<order {
            let nHyp = stats[3 * i], nRef = stats[3 * i + 1], nMatch = Double(stats[3 * i + 2])
            let precision = nHyp > 0 ? nMatch / Double(nHyp) : eps
            let recall = nRef > 0 ? nMatch / Double(nRef) : eps
            let denominator = factor * precision + recall
            epsScore += denominator > 0 ? (1 + factor) * precision * recall / denominator : eps
            if nHyp > 0 && nRef > 0 {
                avgPrecision += precision
                avgRecall += recall
                effective += 1
            }
        }
        let value: Double
        if epsSmoothing {
            value = 100 * epsScore / Double(order)
        } else {
            if effective == 0 {
                avgPrecision = 0
                avgRecall = 0
            } else {
                avgPrecision /= Double(effective)
                avgRecall /= Double(effective)
            }
            if avgPrecision + avgRecall != 0 {
                var f = (1 + factor) * avgPrecision * avgRecall
                f /= factor * avgPrecision + avgRecall
                value = 100 * f
            } else {
                value = 0
            }
        }
        return CHRFScore(name: name, score: value, statistics: stats)
    }
}

/// A chrF or chrF++ score (in percent) and the statistics it came from.
public struct CHRFScore: Codable, Sendable, Equatable {
    /// `chrF2` or `chrF2++`.
    public var name: String
    public var score: Double
    /// `[hypothesis, reference, matched]` per order: characters 1…6, then words.
    public var statistics: [Int]

    public init(name: String, score: Double, statistics: [Int]) {
        self.name = name
        self.score = score
        self.statistics = statistics
    }

    /// The line sacreBLEU's text output prints, e.g. `chrF2|nrefs:1|…|version:2.6.0 = 77.63`.
    public func formatted(signature: String, width: Int = 2) -> String {
        "\(name)|\(signature) = \(PythonText.fixed(score, places: width))"
    }
}
