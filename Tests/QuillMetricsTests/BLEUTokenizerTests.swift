import QuillMetrics
import Testing

@Suite("BLEUTokenizer")
struct BLEUTokenizerTests {
    @Test func fixtureHoldsEveryPair() throws {
        let fixture = try SacreBLEUFixture.load()
        #expect(fixture.sacrebleu == "2.6.0")
        #expect(fixture.pairs.count == 200)
        #expect(fixture.tokenized.count == 200)
        #expect(Set(fixture.tokenized.map(\.id)) == Set(fixture.pairs.map(\.id)))
    }

    /// sacreBLEU's tokenizers are given `rstrip()`ped text (BLEU strips trailing whitespace first).
    @Test("13a and intl tokenizations equal sacreBLEU's, scalar for scalar", arguments: SacreBLEUFixture.tokenizedArguments)
    func tokenizationsMatch(_ expected: SacreBLEUFixture.Tokenized) throws {
        let pair = try #require(try SacreBLEUFixture.load().pairs.first { $0.id == expected.id })
        let hyp = BLEU().preprocess(pair.hyp)
        let ref = BLEU().preprocess(pair.ref)
        #expect(sameScalars(hyp, expected.hyp13a), "13a hyp: [\(hyp)] ≠ [\(expected.hyp13a)]")
        #expect(sameScalars(ref, expected.ref13a), "13a ref: [\(ref)] ≠ [\(expected.ref13a)]")
        let intl = BLEU(tokenizer: .intl)
        let hypIntl = intl.preprocess(pair.hyp)
        let refIntl = intl.preprocess(pair.ref)
        #expect(sameScalars(hypIntl, expected.hypIntl), "intl hyp: [\(hypIntl)] ≠ [\(expected.hypIntl)]")
        #expect(sameScalars(refIntl, expected.refIntl), "intl ref: [\(refIntl)] ≠ [\(expected.refIntl)]")
    }

    @Test("13a rules", arguments: [
        ("Hello, world.", "Hello , world ."),
        ("It costs $3.50, or 1,500 yen.", "It costs $ 3.50 , or 1,500 yen ."),
        ("&quot;Hi&quot; &amp; bye", "\" Hi \" & bye"),
        ("a 1990-ies x-ray", "a 1990 - ies x-ray"),
        ("don't „ja“", "don't „ja“"),
        ("toddler aged 1.5.", "toddler aged 1.5 ."),
        ("  spaced\tout  ", "spaced out"),
    ])
    func thirteenA(_ input: String, _ expected: String) {
        #expect(sameScalars(BLEUTokenizer.thirteenA(input), expected))
    }

    @Test("intl rules", arguments: [
        ("Hello, world.", "Hello , world ."),
        ("toddler aged 1.5.", "toddler aged 1.5."),
        ("„ja“ — 3€", "„ ja “ — 3 €"),
        ("&quot;", "& quot ;"),
        // `\p{N}` is every number (Nd, Nl, No), not only digits: a line-final ½. or Ⅻ. keeps its period, as 1.5.
        // does; inside the line the period is split off because a non-number follows it.
        ("a ½.", "a ½."), ("b Ⅻ.", "b Ⅻ."), ("c ½. d", "c ½ . d"),
    ])
    func international(_ input: String, _ expected: String) {
        #expect(sameScalars(BLEUTokenizer.intl(input), expected))
    }

    /// Python's `str.split()` whitespace: U+00A0, U+202F, and even U+001F separate tokens; U+200B does not.
    @Test func pythonWhitespace() {
        #expect(BLEUTokenizer.thirteenA("a\u{A0}b\u{202F}c\u{1F}d\u{200B}e") == "a b c d\u{200B}e")
    }

    /// Python's `str.lower()`: full mappings and the final sigma.
    @Test func pythonLowercase() {
        let bleu = BLEU(lowercase: true)
        #expect(sameScalars(bleu.preprocess("ΟΔΟΣ İ ÀB"), "\u{3BF}\u{3B4}\u{3BF}\u{3C2} i\u{307} \u{E0}b"))
    }
}
