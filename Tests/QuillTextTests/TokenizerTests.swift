import Testing
@testable import QuillText

/// Tokens of `text` at the word level.
private func words(_ text: String, locale: String = "en", normalization: Normalization = .nfc,
                   caseFold: Bool = false) throws -> [String] {
    try Tokenizer(TokenizerSettings(level: .word, normalization: normalization, caseFold: caseFold, locale: locale))
        .tokenize(text)
}

@Suite struct MultilingualWordTests {
    @Test func englishContractionsStayWhole() throws {
        #expect(try words("Don't you think it's John's? I'd've gone.")
            == ["Don't", " you", " think", " it's", " John's", "?", " I'd've", " gone", "."])
    }

    @Test func frenchElisionSplitsAfterTheApostrophe() throws {
        #expect(try words("L'homme qu'il aime aujourd'hui, c’est l’été.", locale: "fr")
            == ["L'", "homme", " qu'", "il", " aime", " aujourd'hui", ",", " c’", "est", " l’", "été", "."])
        // Only for elision locales: English keeps the apostrophe inside the word.
        #expect(try words("L'homme", locale: "en") == ["L'homme"])
    }

    @Test func italianElision() throws {
        #expect(try words("dell'acqua e l'amico", locale: "it") == ["dell'", "acqua", " e", " l'", "amico"])
    }

    @Test func germanCompoundsStayWholeAndFoldCase() throws {
        #expect(try words("Die Donaudampfschifffahrtsgesellschaft fährt über die Straße.", locale: "de")
            == ["Die", " Donaudampfschifffahrtsgesellschaft", " fährt", " über", " die", " Straße", "."])
        #expect(try words("Die Straße", locale: "de", caseFold: true) == ["die", " strasse"])
    }

    @Test func cjkUsesDictionaryBoundaries() throws {
        #expect(try words("東京は日本の首都です。", locale: "ja") == ["東京", "は", "日本", "の", "首都", "です", "。"])
        #expect(try words("我爱北京天安门。", locale: "zh") == ["我", "爱", "北京", "天安门", "。"])
        #expect(try words("สวัสดีครับ", locale: "th") == ["สวัสดี", "ครับ"])
    }

    @Test func emojiSequencesStayWhole() throws {
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦"
        let fire = "❤️\u{200D}🔥"
        #expect(try words("\(family) and 👍🏽 and 🇫🇷🇩🇪 and \(fire)")
            == [family, " and", " 👍🏽", " and", " 🇫🇷", "🇩🇪", " and", " \(fire)"])
    }

    @Test func urlsAndAddresses() throws {
        #expect(try words("Visit https://example.com/a?b=c now")
            == ["Visit", " https", ":", "/", "/", "example.com", "/", "a", "?", "b", "=", "c", " now"])
        #expect(try words("mail me@example.org")  == ["mail", " me@example.org"])
    }

    @Test func numbers() throws {
        #expect(try words("It costs $3.14, or 1,000,000 at 7:30, 50%.")
            == ["It", " costs", " $", "3.14", ",", " or", " 1,000,000", " at", " 7", ":", "30", ",", " 50", "%", "."])
    }
}

@Suite struct WhitespaceSchemeTests {
    @Test(arguments: [TokenLevel.word, .whitespace])
    func spacesAttachToTheFollowingToken(level: TokenLevel) throws {
        let t = try Tokenizer(TokenizerSettings(level: level))
        #expect(try t.tokenize("a cat") == ["a", " cat"])
        #expect(try t.tokenize("a   b") == ["a", "  ", " b"])
        #expect(try t.tokenize("\tx") == ["\t", "x"])
        #expect(try t.tokenize("end \n") == ["end", " \n"])
        #expect(try t.tokenize("one\r\ntwo\n\nthree") == ["one", "\r\n", "two", "\n", "\n", "three"])
        #expect(try t.tokenize("a\u{00A0}b") == ["a", "\u{00A0}", "b"])   // a no-break space is not a plain space
        #expect(try t.tokenize(" lead") == [" lead"])
        #expect(try t.tokenize("trail  ") == ["trail", "  "])
        #expect(try t.tokenize("") == [])
    }

    @Test func whitespaceLevelKeepsPreTokenizedWordsWhole() throws {
        let t = try Tokenizer(TokenizerSettings(level: .whitespace))
        #expect(try t.tokenize(" the <unk> co. 's N \n") == [" the", " <unk>", " co.", " 's", " N", " \n"])
    }

    @Test func characterLevelIsGraphemeClusters() throws {
        let t = try Tokenizer(TokenizerSettings(level: .character, normalization: .none))
        #expect(try t.tokenize("👨\u{200D}👩\u{200D}👧👍🏽🇫🇷e\u{301} \r\n")
            == ["👨\u{200D}👩\u{200D}👧", "👍🏽", "🇫🇷", "e\u{301}", " ", "\r\n"])
    }
}

@Suite struct FastPathTests {
    /// ASCII chunks skip ICU at the character level; the result must be ICU's grapheme clusters.
    @Test func asciiCharactersMatchICUGraphemes() throws {
        let alphabet: [String] = ["a", " ", "\r", "\n", "\r\n", "\t", ".", "Z", "\u{7F}", "\u{0}"]
        var rng = SplitMix(seed: 3)
        let icu = try Segmenter(.grapheme)
        for settings in [TokenizerSettings(level: .character, normalization: .none),
                         TokenizerSettings(level: .character, normalization: .nfc, caseFold: true)] {
            let t = try Tokenizer(settings)
            for _ in 0..<200 {
                let s = (0..<Int(rng.next() % 30)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
                #expect(try t.tokenize(s) == (try icu.segments(of: t.normalize(s))), "\(s.debugDescription)")
            }
        }
    }

    /// ASCII chunks skip ICU normalization; case folding of ASCII must equal ICU's.
    @Test func asciiCaseFoldingMatchesICU() throws {
        let ascii = String((0..<128).map { Character(Unicode.Scalar(UInt8($0))) })
        let t = try Tokenizer(TokenizerSettings(level: .character, normalization: .nfkc, caseFold: true))
        let folded = try TextNormalizer(normalization: .nfkc, caseFold: true).normalize(ascii + "é")
        #expect(Tokenizer.detokenize(try t.tokenize(ascii)) + "é" == folded)
    }
}

@Suite struct RoundTripTests {
    static let samples = [
        "Hello,  world!\tTabs\u{00A0}and NBSP\u{3000}ideographic space.\r\nCRLF line\rCR line\u{2028}LS\u{85}NEL",
        "  leading and trailing  ", "\n\n\n", " ", "", "a", "é e\u{301} ﬁ Ａ ① Straße ΣΑΣ İ",
        "東京は日本の首都です。 สวัสดีครับ 👨\u{200D}👩\u{200D}👧 🇫🇷 ❤️\u{200D}🔥",
        "L'homme qu’il aime l'", "'l 'x qu' ' '' ’", "URL https://x.org/a?b=1&c=2#f, 3.14 1,000 7:30",
        "\u{FEFF}BOM \u{200B}zero width\u{0301} combining after space \u{0301}",
    ]

    @Test(arguments: TokenLevel.allCases)
    func concatenationIsTheNormalizedText(level: TokenLevel) throws {
        for normalization in Normalization.allCases {
            for caseFold in [false, true] {
                for locale in ["en", "fr", "ja", ""] {
                    let settings = TokenizerSettings(level: level, normalization: normalization, caseFold: caseFold,
                                                     locale: locale)
                    let t = try Tokenizer(settings)
                    for s in Self.samples {
                        let tokens = try t.tokenize(s)
                        #expect(Tokenizer.detokenize(tokens) == (try t.normalize(s)), "\(settings) \(s.debugDescription)")
                        #expect(!tokens.contains(""), "no empty tokens")
                    }
                }
            }
        }
    }

    @Test(arguments: TokenLevel.allCases)
    func randomTextRoundTrips(level: TokenLevel) throws {
        let alphabet: [String] = ["a", "b", "Z", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "'", "’", ".", ",", "é",
                                  "e\u{301}", "\u{301}", "ß", "東", "京", "👍", "🏽", "\u{200D}", "🇫", "🇷", "1", ":",
                                  "\u{00A0}", "\u{2028}", "\u{85}", "ﬁ", "İ", "-", "@", "\u{FEFF}"]
        var rng = SplitMix(seed: 7)
        let t = try Tokenizer(TokenizerSettings(level: level, normalization: .nfkc, caseFold: true, locale: "fr"))
        let raw = try Tokenizer(TokenizerSettings(level: level, normalization: .none))
        for _ in 0..<300 {
            let n = Int(rng.next() % 40)
            let s = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
            #expect(Tokenizer.detokenize(try t.tokenize(s)) == (try t.normalize(s)), "\(s.debugDescription)")
            #expect(Tokenizer.detokenize(try raw.tokenize(s)) == s, "\(s.debugDescription)")
        }
    }
}

/// A tiny deterministic generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
