/// BLEU, chrF and chrF++ of one system's output together, as `sacrebleu REF -i HYP -m bleu chrf` and
/// `-m chrf --chrf-word-order 2` print them: the scoring behind `quill translation score` (and any other front end).
public struct TranslationScoring: Sendable, Equatable {
    public var bleu: BLEU
    public var chrf: CHRF
    public var chrfPlusPlus: CHRF

    /// - Parameters:
    ///   - tokenizer: BLEU's tokenizer (sacreBLEU's `--tokenize`); chrF does not tokenize.
    ///   - lowercase: lower-cased BLEU (sacreBLEU's `--lowercase`, which applies to BLEU only).
    ///   - chrfLowercase: lower-cased chrF and chrF++ (sacreBLEU's `--chrf-lowercase`).
    public init(tokenizer: BLEUTokenizer = .thirteenA, lowercase: Bool = false, chrfLowercase: Bool = false) {
        bleu = BLEU(tokenizer: tokenizer, lowercase: lowercase)
        chrf = CHRF(lowercase: chrfLowercase)
        chrfPlusPlus = CHRF(wordOrder: 2, lowercase: chrfLowercase)
    }

    /// Corpus scores of `hypotheses` against `references` (one reference per hypothesis).
    /// - Throws: ``MetricsError`` when the lists differ in length, are empty, or a reference is empty.
    public func score(hypotheses: [String], references: [String]) throws -> TranslationScores {
        let bleuScore = try bleu.corpusScore(hypotheses: hypotheses, references: references)
        let plusPlus = try chrfPlusPlus.corpusScore(hypotheses: hypotheses, references: references)
        // chrF's statistics are the character part of chrF++'s when both see the same characters: count them once.
        let chrfScore = chrf == CHRF(charOrder: chrfPlusPlus.charOrder, wordOrder: 0, beta: chrfPlusPlus.beta,
                                     lowercase: chrfPlusPlus.lowercase, whitespace: chrfPlusPlus.whitespace,
                                     epsSmoothing: chrfPlusPlus.epsSmoothing)
            ? chrf.score(Array(plusPlus.statistics.prefix(3 * chrf.charOrder)))
            : try chrf.corpusScore(hypotheses: hypotheses, references: references)
        return TranslationScores(bleu: bleuScore, chrf: chrfScore, chrfPlusPlus: plusPlus,
                                 bleuSignature: bleu.signature, chrfSignature: chrf.signature,
                                 chrfPlusPlusSignature: chrfPlusPlus.signature, segments: hypotheses.count)
    }

    /// Sentence scores of each pair, as `sacrebleu -sl` gives them one metric at a time: sentence BLEU with
    /// sacreBLEU's sentence defaults (effective order on; ``bleu``'s tokenizer, case and smoothing), chrF, chrF++.
    /// - Throws: ``MetricsError`` when the lists differ in length, are empty, or a reference is empty.
    public func sentenceScores(hypotheses: [String], references: [String]) throws -> [SentenceScores] {
        try MetricsError.check(hypotheses: hypotheses, references: references)
        var sentenceBLEU = bleu
        sentenceBLEU.effectiveOrder = true
        return zip(hypotheses, references).enumerated().map { i, pair in
            SentenceScores(line: i + 1,
                           bleu: sentenceBLEU.score(sentenceBLEU.statistics(hypothesis: pair.0, reference: pair.1)),
                           chrf: chrf.score(chrf.statistics(hypothesis: pair.0, reference: pair.1)),
                           chrfPlusPlus: chrfPlusPlus.score(chrfPlusPlus.statistics(hypothesis: pair.0,
                                                                                    reference: pair.1)))
        }
    }

    /// The signatures of sentence scores: BLEU's says `eff:yes`.
    public var sentenceSignatures: (bleu: String, chrf: String, chrfPlusPlus: String) {
        var sentenceBLEU = bleu
        sentenceBLEU.effectiveOrder = true
        return (sentenceBLEU.signature, chrf.signature, chrfPlusPlus.signature)
    }

    /// Scores the lines of two files as sacreBLEU's command line reads them (see ``lines(of:universalNewlines:)``);
    /// errors name the files and the line.
    /// - Throws: ``MetricsError/lineCountMismatch(hypothesisFile:hypothesisLines:referenceFile:referenceLines:)``,
    ///   ``MetricsError/emptyReferenceLine(file:line:)`` or ``MetricsError/emptyReferenceFile(file:)``.
    public func score(hypothesisLines: [String], hypothesisFile: String, referenceLines: [String],
                      referenceFile: String) throws -> TranslationScores {
        guard !referenceLines.isEmpty else { throw MetricsError.emptyReferenceFile(file: referenceFile) }
        guard hypothesisLines.count == referenceLines.count else {
            throw MetricsError.lineCountMismatch(hypothesisFile: hypothesisFile, hypothesisLines: hypothesisLines.count,
                                                 referenceFile: referenceFile, referenceLines: referenceLines.count)
        }
        if let index = referenceLines.firstIndex(where: \.isEmpty) {
            throw MetricsError.emptyReferenceLine(file: referenceFile, line: index + 1)
        }
        return try score(hypotheses: hypothesisLines, references: referenceLines)
    }

    /// The segments of a text file as sacreBLEU's command line reads them: one per line, trailing whitespace removed
    /// (Python's `rstrip()`). Files are split at LF only (sacreBLEU opens them with `newline="\n"`); standard input
    /// is read with Python's universal newlines, so CR LF and a lone CR end a line too (`universalNewlines`). A final
    /// line break does not start another line.
    public static func lines(of text: String, universalNewlines: Bool) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var lines: [String] = []
            var start = 0
            var i = 0
            func finish(_ end: Int) {
                lines.append(rstripped(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]),
                                              as: UTF8.self)))
            }
            while i < bytes.count {
                let b = bytes[i]
                if b == 0x0A {
                    finish(i)
                    start = i + 1
                } else if universalNewlines && b == 0x0D {
                    finish(i)
                    if i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
                    start = i + 1
                }
                i += 1
            }
            if start < bytes.count { finish(bytes.count) }
            return lines
        }
    }

    /// Python's `rstrip()`, cheap when the line does not end in whitespace.
    private static func rstripped(_ line: String) -> String {
        guard let last = line.unicodeScalars.last, PythonText.isSpace(last) else { return line }
        return String(scalars: PythonText.rstripped(Array(line.unicodeScalars)))
    }
}

/// BLEU, chrF and chrF++ of one system, with the signatures sacreBLEU prints.
///
/// Encoded (as `quill translation score` prints it) with sacreBLEU's names: `bleu` (the score), `precisions`, `bp`,
/// `ratio`, `sys_len`, `ref_len`, `counts`, `totals`, `chrf`, `chrfpp`, `signature` (`bleu`, `chrf`, `chrfpp`),
/// `score_lines` (sacreBLEU's text lines), `chrf_stats`, `chrfpp_stats` and `segments`.
public struct TranslationScores: Codable, Sendable, Equatable {
    public var bleu: BLEUScore
    public var chrf: CHRFScore
    public var chrfPlusPlus: CHRFScore
    public var bleuSignature: String
    public var chrfSignature: String
    public var chrfPlusPlusSignature: String
    /// Hypothesis/reference pairs scored.
    public var segments: Int

    public init(bleu: BLEUScore, chrf: CHRFScore, chrfPlusPlus: CHRFScore, bleuSignature: String,
                chrfSignature: String, chrfPlusPlusSignature: String, segments: Int) {
        self.bleu = bleu
        self.chrf = chrf
        self.chrfPlusPlus = chrfPlusPlus
        self.bleuSignature = bleuSignature
        self.chrfSignature = chrfSignature
        self.chrfPlusPlusSignature = chrfPlusPlusSignature
        self.segments = segments
    }

    /// The three lines sacreBLEU's text output would print.
    public var scoreLines: [String: String] {
        ["bleu": bleu.formatted(signature: bleuSignature), "chrf": chrf.formatted(signature: chrfSignature),
         "chrfpp": chrfPlusPlus.formatted(signature: chrfPlusPlusSignature)]
    }

    private enum CodingKeys: String, CodingKey {
        case bleu, precisions, bp, ratio, sysLen = "sys_len", refLen = "ref_len", counts, totals
        case chrf, chrfpp, signature, scoreLines = "score_lines", chrfStats = "chrf_stats"
        case chrfppStats = "chrfpp_stats", segments
    }

    private struct Triple: Codable {
        var bleu: String
        var chrf: String
        var chrfpp: String
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bleu.score, forKey: .bleu)
        try c.encode(bleu.precisions, forKey: .precisions)
        try c.encode(bleu.bp, forKey: .bp)
        try c.encode(bleu.ratio, forKey: .ratio)
        try c.encode(bleu.sysLen, forKey: .sysLen)
        try c.encode(bleu.refLen, forKey: .refLen)
        try c.encode(bleu.counts, forKey: .counts)
        try c.encode(bleu.totals, forKey: .totals)
        try c.encode(chrf.score, forKey: .chrf)
        try c.encode(chrfPlusPlus.score, forKey: .chrfpp)
        try c.encode(Triple(bleu: bleuSignature, chrf: chrfSignature, chrfpp: chrfPlusPlusSignature),
                     forKey: .signature)
        let lines = scoreLines
        try c.encode(Triple(bleu: lines["bleu"]!, chrf: lines["chrf"]!, chrfpp: lines["chrfpp"]!),
                     forKey: .scoreLines)
        try c.encode(chrf.statistics, forKey: .chrfStats)
        try c.encode(chrfPlusPlus.statistics, forKey: .chrfppStats)
        try c.encode(segments, forKey: .segments)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let stats = BLEUStatistics(sysLen: try c.decode(Int.self, forKey: .sysLen),
                                   refLen: try c.decode(Int.self, forKey: .refLen),
                                   counts: try c.decode([Int].self, forKey: .counts),
                                   totals: try c.decode([Int].self, forKey: .totals))
        bleu = BLEUScore(score: try c.decode(Double.self, forKey: .bleu), statistics: stats,
                         precisions: try c.decode([Double].self, forKey: .precisions),
                         bp: try c.decode(Double.self, forKey: .bp))
        let signatures = try c.decode(Triple.self, forKey: .signature)
        let chrfStats = try c.decode([Int].self, forKey: .chrfStats)
        let chrfppStats = try c.decode([Int].self, forKey: .chrfppStats)
        chrf = CHRFScore(name: "chrF2", score: try c.decode(Double.self, forKey: .chrf), statistics: chrfStats)
        chrfPlusPlus = CHRFScore(name: "chrF2++", score: try c.decode(Double.self, forKey: .chrfpp),
                                 statistics: chrfppStats)
        bleuSignature = signatures.bleu
        chrfSignature = signatures.chrf
        chrfPlusPlusSignature = signatures.chrfpp
        segments = try c.decode(Int.self, forKey: .segments)
    }
}

/// The scores of one hypothesis/reference pair (a line of `quill translation score --sentence-level`), encoded with
/// sacreBLEU's names: `line`, `bleu`, `precisions`, `bp`, `sys_len`, `ref_len`, `counts`, `totals`, `chrf`, `chrfpp`.
public struct SentenceScores: Encodable, Sendable, Equatable {
    /// The 1-based line (pair) number.
    public var line: Int
    public var bleu: BLEUScore
    public var chrf: CHRFScore
    public var chrfPlusPlus: CHRFScore

    public init(line: Int, bleu: BLEUScore, chrf: CHRFScore, chrfPlusPlus: CHRFScore) {
        self.line = line
        self.bleu = bleu
        self.chrf = chrf
        self.chrfPlusPlus = chrfPlusPlus
    }

    private enum CodingKeys: String, CodingKey {
        case line, bleu, precisions, bp, sysLen = "sys_len", refLen = "ref_len", counts, totals, chrf, chrfpp
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(line, forKey: .line)
        try c.encode(bleu.score, forKey: .bleu)
        try c.encode(bleu.precisions, forKey: .precisions)
        try c.encode(bleu.bp, forKey: .bp)
        try c.encode(bleu.sysLen, forKey: .sysLen)
        try c.encode(bleu.refLen, forKey: .refLen)
        try c.encode(bleu.counts, forKey: .counts)
        try c.encode(bleu.totals, forKey: .totals)
        try c.encode(chrf.score, forKey: .chrf)
        try c.encode(chrfPlusPlus.score, forKey: .chrfpp)
    }
}
