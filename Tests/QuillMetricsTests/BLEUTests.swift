import QuillMetrics
import Testing

@Suite("BLEU")
struct BLEUTests {
    @Test("sentence BLEU and its statistics equal sacreBLEU's", arguments: SacreBLEUFixture.pairArguments)
    func sentenceBLEU(_ pair: SacreBLEUFixture.Pair) throws {
        let score = try BLEU.sentence.sentenceScore(hypothesis: pair.hyp, reference: pair.ref)
        expectClose(score.score, pair.bleu, "BLEU")
        #expect(score.counts == pair.counts)
        #expect(score.totals == pair.totals)
        #expect(score.sysLen == pair.sysLen)
        #expect(score.refLen == pair.refLen)
    }

    @Test("corpus BLEU (13a, intl, lower-cased) equals sacreBLEU's", arguments: SacreBLEUFixture.subsets)
    func corpusBLEU(_ subset: String) throws {
        let fixture = try SacreBLEUFixture.load()
        let expected = try #require(fixture.corpus[subset])
        let pairs = fixture.pairs(in: subset)
        for (bleu, block, name) in [(BLEU(), expected.bleu, "bleu"), (BLEU(tokenizer: .intl), expected.bleuIntl, "intl"),
                                    (BLEU(lowercase: true), expected.bleuLc, "lc")] {
            let score = try bleu.corpusScore(hypotheses: pairs.map(\.hyp), references: pairs.map(\.ref))
            expectClose(score.score, block.score, "\(subset) \(name) score")
            expectClose(score.precisions, block.precisions, "\(subset) \(name) precisions")
            expectClose(score.bp, block.bp, "\(subset) \(name) bp")
            expectClose(score.ratio, block.ratio, "\(subset) \(name) ratio")
            #expect(score.counts == block.counts, "\(subset) \(name)")
            #expect(score.totals == block.totals, "\(subset) \(name)")
            #expect(score.sysLen == block.sysLen, "\(subset) \(name)")
            #expect(score.refLen == block.refLen, "\(subset) \(name)")
            #expect(bleu.signature == block.signature)
            #expect(score.formatted(signature: bleu.signature) == block.line)
        }
    }

    /// Corpus statistics are the sums of the sentence statistics.
    @Test func corpusStatisticsAreSums() throws {
        let pairs = try SacreBLEUFixture.load().pairs
        let stats = try BLEU().corpusStatistics(hypotheses: pairs.map(\.hyp), references: pairs.map(\.ref))
        #expect(stats.counts == (0..<4).map { n in pairs.reduce(0) { $0 + $1.counts[n] } })
        #expect(stats.totals == (0..<4).map { n in pairs.reduce(0) { $0 + $1.totals[n] } })
        #expect(stats.sysLen == pairs.reduce(0) { $0 + $1.sysLen })
    }

    @Test func sentenceSignature() throws {
        #expect(BLEU.sentence.signature == (try SacreBLEUFixture.load().sentenceSignatures["bleu"]))
        #expect(BLEU(smoothing: .floor(0.1)).signature.contains("|smooth:floor[0.10]|"))
    }

    /// The rules the fixture's edge cases exist for: each deliberately wrong variant misses some figure.
    @Test func fixtureDiscriminatesTheRules() throws {
        let pairs = try SacreBLEUFixture.load().pairs
        // Without effective order, 1- and 2-token hypotheses score 0 rather than sacreBLEU's sentence figure.
        let noEffectiveOrder = try pairs.filter { pair in
            let score = try BLEU().sentenceScore(hypothesis: pair.hyp, reference: pair.ref).score
            return abs(score - pair.bleu) > 0.01
        }
        #expect(!noEffectiveOrder.isEmpty)
        // The intl tokenizer's counts differ from 13a's on some pairs.
        let intlCounts = pairs.filter { pair in
            BLEU(tokenizer: .intl).statistics(hypothesis: pair.hyp, reference: pair.ref).counts != pair.counts
        }
        #expect(!intlCounts.isEmpty)
    }

    @Test func earlyExitWhenNothingMatches() throws {
        let score = try BLEU.sentence.sentenceScore(hypothesis: "x y z", reference: "a b c")
        #expect(score.score == 0)
        #expect(score.precisions == [0, 0, 0, 0])
        #expect(score.totals == [3, 2, 1, 0])
    }

    @Test func errors() {
        #expect(throws: MetricsError.emptyReference(index: 1)) {
            try BLEU().corpusScore(hypotheses: ["a", "b"], references: ["a", ""])
        }
        #expect(throws: MetricsError.lengthMismatch(hypotheses: 1, references: 2)) {
            try BLEU().corpusScore(hypotheses: ["a"], references: ["a", "b"])
        }
        #expect(throws: MetricsError.noSegments) { try BLEU().corpusScore(hypotheses: [], references: []) }
    }
}
