import Foundation

/// BLEU (Papineni et al. 2002) exactly as sacreBLEU 2.6 computes it (Post 2018): the same tokenizers, the same
/// sufficient statistics, the same smoothing, brevity penalty and signature, so scores are comparable with published
/// sacreBLEU numbers.
///
/// The defaults are sacreBLEU's corpus defaults: tokenizer `13a`, cased, `exp` smoothing, no effective order.
/// ``sentence`` gives sacreBLEU's `sentence_bleu` defaults (effective order on).
///
/// ```swift
/// let score = try BLEU().corpusScore(hypotheses: hyps, references: refs)
/// print(score.score, BLEU().signature)   // 63.55…, nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0
/// ```
public struct BLEU: Sendable, Equatable {
    /// The sacreBLEU release whose rules are reproduced, as written in signatures (`version:2.6.0`).
    public static let sacreBLEUVersion = "2.6.0"
    /// The highest n-gram order (sacreBLEU's `MAX_NGRAM_ORDER`).
    public static let maxOrder = 4

    /// How a precision with no matching n-gram is smoothed (Chen & Cherry 2014; sacreBLEU's `smooth_method`).
    public enum Smoothing: Sendable, Equatable, Codable {
        /// No smoothing: a zero precision makes the score 0.
        case none
        /// A zero match count becomes `value` (sacreBLEU's default 0.1).
        case floor(Double)
        /// `k` is added to the matches and totals of orders 2…4 (sacreBLEU's default 1).
        case addK(Double)
        /// NIST's geometric smoothing, the `mteval-v13a.pl` rule and sacreBLEU's default: the k-th order with no
        /// match gets precision `1 / (2^k · total)`.
        case exp

        /// The name in the signature: `exp`, `none`, `floor[0.10]`, `add-k[1.00]`.
        public var signatureName: String {
            switch self {
            case .none: return "none"
            case .exp: return "exp"
            case .floor(let v): return "floor[\(PythonText.fixed(v, places: 2))]"
            case .addK(let v): return "add-k[\(PythonText.fixed(v, places: 2))]"
            }
        }
    }

    public var tokenizer: BLEUTokenizer
    /// Lower-cases hypotheses and references (Python's `str.lower()`) before tokenizing.
    public var lowercase: Bool
    public var smoothing: Smoothing
    /// Averages over the orders up to the last with any hypothesis n-gram rather than over all four, so a
    /// one-token sentence can score. sacreBLEU enables it for sentence BLEU only.
    public var effectiveOrder: Bool

    public init(tokenizer: BLEUTokenizer = .thirteenA, lowercase: Bool = false, smoothing: Smoothing = .exp,
                effectiveOrder: Bool = false) {
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.smoothing = smoothing
        self.effectiveOrder = effectiveOrder
    }

    /// sacreBLEU's `sentence_bleu` defaults: 13a, cased, `exp` smoothing, effective order.
    public static let sentence = BLEU(effectiveOrder: true)

    /// The reproducibility signature as sacreBLEU prints it, e.g.
    /// `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`.
    public var signature: String {
        "nrefs:1|case:\(lowercase ? "lc" : "mixed")|eff:\(effectiveOrder ? "yes" : "no")|tok:\(tokenizer.signatureName)"
            + "|smooth:\(smoothing.signatureName)|version:\(Self.sacreBLEUVersion)"
    }

    /// A segment as BLEU sees it: lower-cased if asked, trailing whitespace removed, tokenized (sacreBLEU's
    /// `_preprocess_segment`, in its order).
    public func preprocess(_ segment: String) -> String {
        String(scalars: preprocessed(Array(segment.unicodeScalars)))
    }

    func preprocessed(_ segment: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let s = lowercase ? PythonText.lowercased(segment) : segment
        return tokenizer.tokenize(PythonText.rstripped(s))
    }

    /// The sufficient statistics of one hypothesis against one reference: lengths, clipped matches and hypothesis
    /// n-gram totals for n = 1…4, after preprocessing both (sacreBLEU's `_compute_segment_statistics` over
    /// `extract_all_word_ngrams` of `metrics/helpers.py`: the n-grams of the tokens of Python's `str.split()`).
    public func statistics(hypothesis: String, reference: String) -> BLEUStatistics {
        let hyp = PythonText.split(preprocessed(Array(hypothesis.unicodeScalars)))
        let ref = PythonText.split(preprocessed(Array(reference.unicodeScalars)))
        let (hypIDs, refIDs) = NGrams.ids(hyp, ref)
        var counts = [Int](repeating: 0, count: Self.maxOrder)
        var totals = [Int](repeating: 0, count: Self.maxOrder)
        for n in 1...Self.maxOrder {
            var h = NGrams.wordKeys(hypIDs, order: n)
            var r = NGrams.wordKeys(refIDs, order: n)
            let match = NGramMatch(hypothesis: &h, reference: &r)
            counts[n - 1] = match.matched
            totals[n - 1] = match.hypothesis
        }
        return BLEUStatistics(sysLen: hyp.count, refLen: ref.count, counts: counts, totals: totals)
    }

    /// Sentence BLEU of one hypothesis against one reference (use ``sentence`` for sacreBLEU's sentence defaults).
    /// - Throws: ``MetricsError/emptyReference(index:)`` for an empty reference, which sacreBLEU refuses.
    public func sentenceScore(hypothesis: String, reference: String) throws -> BLEUScore {
        guard !reference.isEmpty else { throw MetricsError.emptyReference(index: 0) }
        return score(statistics(hypothesis: hypothesis, reference: reference))
    }

    /// Corpus BLEU: statistics summed over all segments, then one score from the sums (not a mean of sentence
    /// scores).
    /// - Throws: ``MetricsError`` when the lists differ in length, are empty, or a reference is empty.
    public func corpusScore(hypotheses: [String], references: [String]) throws -> BLEUScore {
        score(try corpusStatistics(hypotheses: hypotheses, references: references))
    }

    /// The summed statistics of a corpus (computed on all cores for large inputs).
    /// - Throws: ``MetricsError`` when the lists differ in length, are empty, or a reference is empty.
    public func corpusStatistics(hypotheses: [String], references: [String]) throws -> BLEUStatistics {
        try MetricsError.check(hypotheses: hypotheses, references: references)
        return Parallel.sum(count: hypotheses.count, zero: BLEUStatistics.zero) { i in
            statistics(hypothesis: hypotheses[i], reference: references[i])
        }
    }

    /// The score from (summed) statistics: sacreBLEU's `compute_bleu` (`metrics/bleu.py`).
    ///
    /// The brevity penalty is `exp(1 − ref_len / sys_len)` when the hypothesis is shorter (0 when it is empty). With
    /// no matching n-gram of any order the score and all precisions are 0 (sacreBLEU's early exit). Otherwise orders
    /// are taken in turn up to the first with no hypothesis n-gram; the score is `bp · exp(mean log p)` over the
    /// effective orders, or over all four (`log 0` taken as −9999999999) without effective order.
    public func score(_ stats: BLEUStatistics) -> BLEUScore {
        let order = Self.maxOrder
        let bp: Double
        if stats.sysLen < stats.refLen {
            bp = stats.sysLen > 0 ? exp(1 - Double(stats.refLen) / Double(stats.sysLen)) : 0
        } else {
            bp = 1
        }
        var precisions = [Double](repeating: 0, count: order)
        guard stats.counts.contains(where: { $0 != 0 }) else {
            return BLEUScore(score: 0, statistics: stats, precisions: precisions, bp: bp)
        }
        var correct = stats.counts.map(Double.init)
        var total = stats.totals.map(Double.init)
        var smoothMteval = 1.0
        var effective = order
        for n in 1...order {
            if case .addK(let k) = smoothing, n > 1 {
                correct[n - 1] += k
                total[n - 1] += k
            }
            if total[n - 1] == 0 { break }
            if effectiveOrder { effective = n }
            if correct[n - 1] == 0 {
                switch smoothing {
                case .exp:
                    smoothMteval *= 2
                    precisions[n - 1] = 100 / (smoothMteval * total[n - 1])
                case .floor(let value):
                    precisions[n - 1] = 100 * value / total[n - 1]
                case .none, .addK:
                    break
                }
            } else {
                precisions[n - 1] = 100 * correct[n - 1] / total[n - 1]
            }
        }
        var sum = 0.0
        for p in precisions[..<effective] { sum += p == 0 ? -9_999_999_999 : log(p) }
        return BLEUScore(score: bp * exp(sum / Double(effective)), statistics: stats, precisions: precisions, bp: bp)
    }
}

/// BLEU's sufficient statistics for a segment or, summed, a corpus: sacreBLEU's `[sys_len, ref_len, counts…,
/// totals…]`.
public struct BLEUStatistics: Codable, Sendable, Equatable {
    /// Hypothesis tokens.
    public var sysLen: Int
    /// Reference tokens (the closest reference length; with one reference, its length).
    public var refLen: Int
    /// Clipped matching n-grams for n = 1…4.
    public var counts: [Int]
    /// Hypothesis n-grams for n = 1…4.
    public var totals: [Int]

    public init(sysLen: Int, refLen: Int, counts: [Int], totals: [Int]) {
        self.sysLen = sysLen
        self.refLen = refLen
        self.counts = counts
        self.totals = totals
    }

    public static let zero = BLEUStatistics(sysLen: 0, refLen: 0, counts: [0, 0, 0, 0], totals: [0, 0, 0, 0])

    public static func + (a: BLEUStatistics, b: BLEUStatistics) -> BLEUStatistics {
        BLEUStatistics(sysLen: a.sysLen + b.sysLen, refLen: a.refLen + b.refLen,
                       counts: zip(a.counts, b.counts).map(+), totals: zip(a.totals, b.totals).map(+))
    }
}

/// A BLEU score with the figures sacreBLEU reports beside it. Precisions and the score are in percent.
public struct BLEUScore: Codable, Sendable, Equatable {
    public var score: Double
    public var counts: [Int]
    public var totals: [Int]
    /// n-gram precisions for n = 1…4, in percent (smoothed as the score was).
    public var precisions: [Double]
    /// The brevity penalty.
    public var bp: Double
    public var sysLen: Int
    public var refLen: Int
    /// `sys_len / ref_len` (0 when there is no reference token).
    public var ratio: Double

    public init(score: Double, statistics: BLEUStatistics, precisions: [Double], bp: Double) {
        self.score = score
        counts = statistics.counts
        totals = statistics.totals
        self.precisions = precisions
        self.bp = bp
        sysLen = statistics.sysLen
        refLen = statistics.refLen
        ratio = statistics.refLen > 0 ? Double(statistics.sysLen) / Double(statistics.refLen) : 0
    }

    /// The line sacreBLEU's text output prints, e.g. `BLEU|nrefs:1|…|version:2.6.0 = 63.55 90.9/75.9/66.6/58.6
    /// (BP = 0.882 ratio = 0.889 hyp_len = 2307 ref_len = 2596)`.
    public func formatted(signature: String, width: Int = 2) -> String {
        let precisionText = precisions.map { PythonText.fixed($0, places: 1) }.joined(separator: "/")
        return "BLEU|\(signature) = \(PythonText.fixed(score, places: width)) \(precisionText) "
            + "(BP = \(PythonText.fixed(bp, places: 3)) ratio = \(PythonText.fixed(ratio, places: 3)) "
            + "hyp_len = \(sysLen) ref_len = \(refLen))"
    }
}
