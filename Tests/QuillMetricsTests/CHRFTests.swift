import QuillMetrics
import Testing

@Suite("CHRF")
struct CHRFTests {
    @Test("sentence chrF and chrF++ equal sacreBLEU's", arguments: SacreBLEUFixture.pairArguments)
    func sentenceCHRF(_ pair: SacreBLEUFixture.Pair) throws {
        expectClose(try CHRF().sentenceScore(hypothesis: pair.hyp, reference: pair.ref).score, pair.chrf, "chrF")
        expectClose(try CHRF.plusPlus.sentenceScore(hypothesis: pair.hyp, reference: pair.ref).score, pair.chrfpp,
                    "chrF++")
    }

    @Test("corpus chrF and chrF++ equal sacreBLEU's", arguments: SacreBLEUFixture.subsets)
    func corpusCHRF(_ subset: String) throws {
        let fixture = try SacreBLEUFixture.load()
        let expected = try #require(fixture.corpus[subset])
        let pairs = fixture.pairs(in: subset)
        for (chrf, block, name) in [(CHRF(), expected.chrf, "chrF"), (CHRF.plusPlus, expected.chrfpp, "chrF++")] {
            let score = try chrf.corpusScore(hypotheses: pairs.map(\.hyp), references: pairs.map(\.ref))
            expectClose(score.score, block.score, "\(subset) \(name)")
            #expect(score.statistics == block.stats, "\(subset) \(name)")
            #expect(chrf.signature == block.signature)
            #expect(score.formatted(signature: chrf.signature) == block.line)
        }
    }

    @Test func signaturesAndNames() throws {
        let signatures = try SacreBLEUFixture.load().sentenceSignatures
        #expect(CHRF().signature == signatures["chrf"])
        #expect(CHRF.plusPlus.signature == signatures["chrfpp"])
        #expect(CHRF().name == "chrF2")
        #expect(CHRF.plusPlus.name == "chrF2++")
        #expect(CHRF(lowercase: true).signature.hasPrefix("nrefs:1|case:lc|"))
    }

    /// Characters are Unicode scalars: the NFD é is two of them and matches neither the NFC é nor plain e alone.
    @Test func charactersAreScalars() throws {
        let nfc = try CHRF().sentenceScore(hypothesis: "Caf\u{E9}", reference: "Caf\u{E9}")
        let nfd = try CHRF().sentenceScore(hypothesis: "Cafe\u{301}", reference: "Caf\u{E9}")
        #expect(nfc.score > 99.99)
        #expect(nfd.score < 90)
        #expect(nfd.statistics[0] == 5 && nfd.statistics[1] == 4 && nfd.statistics[2] == 3)
    }

    /// An order the reference has no n-gram of counts no hypothesis n-grams either (sacreBLEU's rule), so it drops
    /// out of corpus sums too.
    @Test func ordersMissingFromTheReference() {
        let stats = CHRF().statistics(hypothesis: "abcdefg", reference: "a bc")
        #expect(stats == [7, 3, 3, 6, 2, 2, 5, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// chrF++ words: one trailing, else one leading, ASCII punctuation mark split off.
    @Test func chrfPlusPlusWords() throws {
        let stats = CHRF.plusPlus.statistics(hypothesis: "(hi) there", reference: "(hi ) there")
        // Words: "(hi" ")" "there" (the trailing mark goes first) against "(" "hi" ")" "there" ("(hi" has no
        // trailing mark, so its leading one is split off): 2 of 3 unigrams and 1 of 2 bigrams (") there") match.
        #expect(Array(stats[18..<24]) == [3, 4, 2, 2, 3, 1])
    }
}
