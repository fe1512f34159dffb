import Foundation
import QuillMetrics
import Testing

@Suite("TranslationScoring")
struct TranslationScoringTests {
    @Test func allThreeScoresMatchTheFixture() throws {
        let fixture = try SacreBLEUFixture.load()
        let expected = try #require(fixture.corpus["all"])
        let scores = try TranslationScoring().score(hypotheses: fixture.pairs.map(\.hyp),
                                                    references: fixture.pairs.map(\.ref))
        expectClose(scores.bleu.score, expected.bleu.score, "BLEU")
        expectClose(scores.chrf.score, expected.chrf.score, "chrF")
        expectClose(scores.chrfPlusPlus.score, expected.chrfpp.score, "chrF++")
        #expect(scores.scoreLines["bleu"] == expected.bleu.line)
        #expect(scores.scoreLines["chrfpp"] == expected.chrfpp.line)

        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(scores)) as? [String: Any]
        #expect(json?["sys_len"] as? Int == expected.bleu.sysLen)
        #expect((json?["signature"] as? [String: String])?["chrfpp"] == expected.chrfpp.signature)
        let decoded = try JSONDecoder().decode(TranslationScores.self, from: JSONEncoder().encode(scores))
        #expect(decoded == scores)
    }

    @Test func sentenceScoresMatchTheFixture() throws {
        let fixture = try SacreBLEUFixture.load()
        let scoring = TranslationScoring()
        let sentences = try scoring.sentenceScores(hypotheses: fixture.pairs.map(\.hyp),
                                                   references: fixture.pairs.map(\.ref))
        #expect(sentences.count == fixture.pairs.count)
        for (sentence, pair) in zip(sentences, fixture.pairs) {
            expectClose(sentence.bleu.score, pair.bleu, "BLEU of pair \(pair.id)")
            expectClose(sentence.chrf.score, pair.chrf, "chrF of pair \(pair.id)")
            expectClose(sentence.chrfPlusPlus.score, pair.chrfpp, "chrF++ of pair \(pair.id)")
        }
        #expect(scoring.sentenceSignatures.bleu == fixture.sentenceSignatures["bleu"])
    }

    @Test("lines as sacreBLEU's command line reads them", arguments: [
        ("a \n b\t\nc", false, ["a", " b", "c"]),
        ("a\nb\n", false, ["a", "b"]),
        ("a\r\nb\rc\n", true, ["a", "b", "c"]),
        ("a\rb\n", false, ["a\rb"]),
        ("", false, []),
        ("\n\n", false, ["", ""]),
    ])
    func lines(_ text: String, _ universal: Bool, _ expected: [String]) {
        #expect(TranslationScoring.lines(of: text, universalNewlines: universal) == expected)
    }

    @Test func errorsNameFilesAndLines() {
        let scoring = TranslationScoring()
        #expect(throws: MetricsError.lineCountMismatch(hypothesisFile: "h.txt", hypothesisLines: 1,
                                                       referenceFile: "r.txt", referenceLines: 2)) {
            try scoring.score(hypothesisLines: ["a"], hypothesisFile: "h.txt", referenceLines: ["a", "b"],
                              referenceFile: "r.txt")
        }
        #expect(throws: MetricsError.emptyReferenceLine(file: "r.txt", line: 2)) {
            try scoring.score(hypothesisLines: ["a", "b"], hypothesisFile: "h.txt", referenceLines: ["a", ""],
                              referenceFile: "r.txt")
        }
        #expect(MetricsError.lineCountMismatch(hypothesisFile: "h.txt", hypothesisLines: 1, referenceFile: "r.txt",
                                               referenceLines: 2).description.contains("line 2 of r.txt"))
    }
}
